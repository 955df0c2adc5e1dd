"""The rules of the filing journey (SPEC §3), one pure-ish function each."""

import datetime
import re

import pytest

from applications.exceptions import DomainError
from applications.rules import (
    check_broker_name,
    check_desired_identifier,
    check_desired_start_date,
    check_identifier_free_in_contract,
    check_item_count,
    check_processing_method,
    normalise_broker_name,
    normalise_identifier,
    normalise_phone,
)
from tests.factories import ContractFactory, DraftFactory, ItemFactory, NaccsUserIdFactory, method

D = datetime.date
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def refused(func, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as excinfo:
        func(*args, **kwargs)
    error = excinfo.value
    assert JAPANESE.search(str(error.message)), f"message is not Japanese: {error.message!r}"
    return error


# --- check_desired_start_date ---

TUESDAY = D(2027, 4, 27)  # the Tuesday before Golden Week 2027


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2027, 5, 4), "みどりの日"),
        (D(2027, 5, 3), "憲法記念日"),
        (D(2027, 7, 19), "海の日"),
    ],
)
def test_desired_start_date_on_a_public_holiday_is_refused(day, name):
    error = refused(check_desired_start_date, day, today=TUESDAY)
    assert error.field == "desired_start_date"
    assert error.code == "not_business_day"
    assert name in error.message
    assert f"{day.year}年{day.month}月{day.day}日" in error.message


def test_desired_start_date_on_a_substitute_holiday_is_refused_with_its_name():
    error = refused(check_desired_start_date, D(2027, 3, 22), today=D(2027, 3, 1))
    assert error.code == "not_business_day"
    assert "振替休日" in error.message
    assert "2027年3月22日" in error.message


def test_desired_start_date_on_a_holiday_is_refused_even_when_also_too_early():
    # 昭和の日 is also before the earliest date: the customer learns the more useful reason, the holiday.
    error = refused(check_desired_start_date, D(2027, 4, 29), today=TUESDAY)
    assert error.code == "not_business_day"
    assert "昭和の日" in error.message


@pytest.mark.parametrize("day", [D(2027, 5, 8), D(2027, 5, 9)])
def test_desired_start_date_on_a_weekend_is_refused(day):
    error = refused(check_desired_start_date, day, today=TUESDAY)
    assert error.field == "desired_start_date"
    assert error.code == "not_business_day"
    assert f"2027年5月{day.day}日" in error.message
    assert "祝日（" not in error.message  # a weekend is not called a holiday


def test_desired_start_date_on_a_centre_closed_day_is_refused(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(11, 30)]
    error = refused(check_desired_start_date, D(2027, 11, 30), today=D(2027, 11, 1))
    assert error.code == "not_business_day"
    assert "2027年11月30日はNACCSセンターの休業日です。" in error.message


def test_desired_start_date_in_the_year_end_closure_is_refused_by_default():
    error = refused(check_desired_start_date, D(2027, 12, 29), today=D(2027, 12, 1))
    assert error.code == "not_business_day"
    assert "2027年12月29日はNACCSセンターの休業日です。" in error.message
    # a weekend day of the closure is refused as a weekend, not as a closed day
    assert "休業日" not in refused(check_desired_start_date, D(2028, 1, 2), today=D(2027, 12, 1)).message


def test_desired_start_date_is_required():
    error = refused(check_desired_start_date, None, today=TUESDAY)
    assert (error.field, error.code) == ("desired_start_date", "required")
    assert "利用開始希望日" in error.message


@pytest.mark.parametrize(
    ("today", "too_early", "earliest"),
    [
        # Tue 4/27: +1 = Wed 4/28, +2 = Fri 4/30 (昭和の日 skipped)
        (D(2027, 4, 27), D(2027, 4, 28), D(2027, 4, 30)),
        # Wed 4/28: +1 = Fri 4/30, +2 = Thu 5/6 (the weekend and 5/3–5/5 skipped)
        (D(2027, 4, 28), D(2027, 4, 30), D(2027, 5, 6)),
        # Fri 4/30: +1 = Thu 5/6, +2 = Fri 5/7
        (D(2027, 4, 30), D(2027, 5, 6), D(2027, 5, 7)),
        # Fri 12/25: +1 = Mon 12/28, +2 = Mon 1/4 (the year-end closure 12/29–1/3 and the weekend skipped)
        (D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 4)),
        # Wed 12/30, itself a closed day: +1 = Mon 1/4, +2 = Tue 1/5
        (D(2026, 12, 30), D(2027, 1, 4), D(2027, 1, 5)),
        # Fri 3/19: +1 = Tue 3/23 (振替休日 3/22 skipped), +2 = Wed 3/24
        (D(2027, 3, 19), D(2027, 3, 23), D(2027, 3, 24)),
    ],
)
def test_desired_start_date_is_at_least_two_business_days_after_today(today, too_early, earliest):
    error = refused(check_desired_start_date, too_early, today=today)
    assert (error.field, error.code) == ("desired_start_date", "too_early")
    assert f"{earliest.year}年{earliest.month}月{earliest.day}日" in error.message
    assert "2営業日" in error.message
    check_desired_start_date(earliest, today=today)  # accepted: no exception


def test_desired_start_date_of_today_or_tomorrow_is_too_early():
    assert refused(check_desired_start_date, D(2027, 4, 26), today=D(2027, 4, 26)).code == "too_early"
    assert refused(check_desired_start_date, D(2027, 4, 27), today=D(2027, 4, 26)).code == "too_early"
    check_desired_start_date(D(2027, 4, 28), today=D(2027, 4, 26))


def test_desired_start_date_in_the_past_is_refused():
    assert refused(check_desired_start_date, D(2027, 4, 1), today=TUESDAY).code == "too_early"


def test_desired_start_date_over_the_year_end_closure(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(12, 29), (12, 30), (12, 31), (1, 2), (1, 3)]
    # Mon 12/28/2026: 12/29–31 closed, 1/1 元日, 1/2–3 weekend: +1 = 1/4, +2 = 1/5.
    error = refused(check_desired_start_date, D(2027, 1, 4), today=D(2026, 12, 28))
    assert error.code == "too_early"
    assert "2027年1月5日" in error.message
    check_desired_start_date(D(2027, 1, 5), today=D(2026, 12, 28))


def test_desired_start_date_is_at_most_three_months_ahead():
    check_desired_start_date(D(2027, 7, 27), today=TUESDAY)  # exactly 3 months: accepted
    error = refused(check_desired_start_date, D(2027, 7, 28), today=TUESDAY)
    assert (error.field, error.code) == ("desired_start_date", "too_late")
    assert "3か月" in error.message
    assert "2027年7月27日" in error.message


def test_desired_start_date_limit_of_three_months_is_clamped_to_the_month_end():
    # 11/30 + 3 months = 2/28 (a Sunday in 2027): the last acceptable business day is Fri 2/26.
    check_desired_start_date(D(2027, 2, 26), today=D(2026, 11, 30))
    error = refused(check_desired_start_date, D(2027, 3, 1), today=D(2026, 11, 30))
    assert error.code == "too_late"
    assert "2027年2月28日" in error.message


def test_min_business_days_setting_moves_the_earliest_date(settings):
    settings.NSS_START_DATE_MIN_BUSINESS_DAYS = 5
    # Tue 4/27: 4/28, 4/30, 5/6, 5/7, 5/10.
    error = refused(check_desired_start_date, D(2027, 5, 7), today=TUESDAY)
    assert error.code == "too_early"
    assert "5営業日" in error.message
    assert "2027年5月10日" in error.message
    check_desired_start_date(D(2027, 5, 10), today=TUESDAY)


def test_min_business_days_setting_of_one_allows_the_next_business_day(settings):
    settings.NSS_START_DATE_MIN_BUSINESS_DAYS = 1
    check_desired_start_date(D(2027, 4, 28), today=TUESDAY)


def test_max_months_setting_moves_the_latest_date(settings):
    settings.NSS_START_DATE_MAX_MONTHS = 1
    check_desired_start_date(D(2027, 5, 27), today=TUESDAY)
    error = refused(check_desired_start_date, D(2027, 5, 28), today=TUESDAY)
    assert error.code == "too_late"
    assert "1か月" in error.message
    assert "2027年5月27日" in error.message


def test_max_months_setting_can_widen_the_window(settings):
    settings.NSS_START_DATE_MAX_MONTHS = 6
    check_desired_start_date(D(2027, 10, 27), today=TUESDAY)
    assert refused(check_desired_start_date, D(2027, 10, 28), today=TUESDAY).code == "too_late"


# --- normalise_identifier ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A0A", "A0A"),
        ("ａ０ａ", "A0A"),  # full-width lower case
        ("Ｙ２７", "Y27"),
        ("y27", "Y27"),
        ("q1z", "Q1Z"),
        ("　Ｑ１Ｚ　", "Q1Z"),  # full-width spaces around
        (" q1z\t", "Q1Z"),
        ("", ""),
        (None, ""),
    ],
)
def test_identifier_is_normalised_to_half_width_upper_case_without_surrounding_spaces(raw, expected):
    assert normalise_identifier(raw) == expected


# --- check_desired_identifier ---


@pytest.fixture
def draft(db):
    return DraftFactory(items=0)


@pytest.mark.parametrize("identifier", ["A0", "A0A0", "A-0", "a0a", "A 0", "AÄ0", "Ａ0A"])
def test_identifier_that_is_not_three_upper_case_letters_or_digits_is_refused(draft, identifier):
    error = refused(check_desired_identifier, draft.contract, draft, identifier)
    assert (error.field, error.code) == ("desired_identifier", "identifier_shape")
    assert "3文字" in error.message


@pytest.mark.parametrize("identifier", ["A0A", "Y27", "999", "ZZZ"])
def test_identifier_of_three_upper_case_letters_or_digits_is_accepted(draft, identifier):
    check_desired_identifier(draft.contract, draft, identifier)


def test_empty_identifier_means_allocate_one_and_is_accepted(draft):
    NaccsUserIdFactory(contract=draft.contract, identifier="A0A")
    check_desired_identifier(draft.contract, draft, "")


def test_identifier_already_in_the_contract_is_refused(draft):
    NaccsUserIdFactory(contract=draft.contract, identifier="A0A")
    error = refused(check_desired_identifier, draft.contract, draft, "A0A")
    assert (error.field, error.code) == ("desired_identifier", "identifier_in_contract")
    assert "A0A" in error.message
    assert f"{draft.contract.user_code}A0A" in error.message


def test_identifier_free_check_refuses_an_issued_identifier_directly(draft):
    NaccsUserIdFactory(contract=draft.contract, identifier="Y27")
    error = refused(check_identifier_free_in_contract, draft.contract, "Y27")
    assert error.code == "identifier_in_contract"
    check_identifier_free_in_contract(draft.contract, "Y28")


def test_identifier_issued_in_another_contract_is_free_in_this_one(draft):
    NaccsUserIdFactory(contract=ContractFactory(), identifier="A0A")
    check_desired_identifier(draft.contract, draft, "A0A")


def test_identifier_repeated_in_the_application_is_refused(draft):
    ItemFactory(application=draft, desired_identifier="A0A")
    error = refused(check_desired_identifier, draft.contract, draft, "A0A")
    assert (error.field, error.code) == ("desired_identifier", "identifier_repeated")
    assert "A0A" in error.message


def test_identifier_asked_in_another_application_is_not_a_repeat(draft):
    ItemFactory(application=DraftFactory(contract=draft.contract, items=0), desired_identifier="A0A")
    check_desired_identifier(draft.contract, draft, "A0A")


# --- check_broker_name ---


def test_broker_name_repeated_for_the_same_processing_method_is_refused(draft):
    interactive = method("interactive")
    ItemFactory(application=draft, processing_method=interactive, broker_name="通関 花子")
    error = refused(check_broker_name, draft, interactive, "通関 花子")
    assert (error.field, error.code) == ("broker_name", "broker_repeated")
    assert "通関 花子" in error.message
    assert interactive.name in error.message


def test_broker_name_is_allowed_once_for_another_processing_method(draft):
    ItemFactory(application=draft, processing_method=method("interactive"), broker_name="通関 花子")
    check_broker_name(draft, method("netnaccs"), "通関 花子")


def test_same_broker_name_in_another_application_is_no_repeat(draft):
    ItemFactory(application=DraftFactory(contract=draft.contract, items=0), broker_name="通関 花子")
    check_broker_name(draft, method("interactive"), "通関 花子")


def test_broker_name_is_required(draft):
    error = refused(check_broker_name, draft, method("interactive"), "")
    assert (error.field, error.code) == ("broker_name", "required")
    assert "通関士氏名" in error.message


# --- check_processing_method ---


def test_processing_method_not_in_the_contract_is_refused(db):
    contract = ContractFactory(methods=["interactive"])
    netnaccs = method("netnaccs")
    error = refused(check_processing_method, contract, netnaccs)
    assert (error.field, error.code) == ("processing_method", "method_not_in_contract")
    assert netnaccs.name in error.message


def test_processing_method_of_the_contract_is_accepted(db):
    contract = ContractFactory(methods=["interactive"])
    check_processing_method(contract, method("interactive"))


def test_processing_method_is_required(db):
    error = refused(check_processing_method, ContractFactory(), None)
    assert (error.field, error.code) == ("processing_method", "required")


# --- check_item_count ---


@pytest.mark.parametrize("count", [0, 1, 19])
def test_adding_an_id_below_the_maximum_is_allowed(count):
    check_item_count(count, adding=True)


def test_adding_a_21st_id_is_refused():
    error = refused(check_item_count, 20, adding=True)
    assert error.code == "too_many_ids"
    assert error.field is None
    assert "20件" in error.message


@pytest.mark.parametrize("count", [1, 2, 20])
def test_application_with_1_to_20_ids_is_complete(count):
    check_item_count(count, adding=False)


def test_application_without_ids_is_refused():
    error = refused(check_item_count, 0, adding=False)
    assert error.code == "no_ids"
    assert "1件以上" in error.message


def test_application_with_more_than_20_ids_is_refused():
    error = refused(check_item_count, 21, adding=False)
    assert error.code == "too_many_ids"
    assert "20件" in error.message


def test_max_ids_setting_changes_the_limit(settings):
    settings.NSS_MAX_IDS_PER_APPLICATION = 3
    check_item_count(2, adding=True)
    check_item_count(3, adding=False)
    error = refused(check_item_count, 3, adding=True)
    assert error.code == "too_many_ids"
    assert "3件" in error.message
    assert refused(check_item_count, 4, adding=False).code == "too_many_ids"


# --- normalise_phone / normalise_broker_name ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "03-1234-5678"),
        ("０３－１２３４－５６７８", "03-1234-5678"),  # full-width digits and hyphen-minus
        ("03ー1234ー5678", "03-1234-5678"),  # katakana long vowel mark typed as a hyphen
        ("03ｰ1234ｰ5678", "03-1234-5678"),  # half-width long vowel mark
        ("03−1234−5678", "03-1234-5678"),  # minus sign
        ("03‐1234‐5678", "03-1234-5678"),  # hyphen
        ("03–1234—5678", "03-1234-5678"),  # en dash, em dash
        (" 03 1234 5678 ", "0312345678"),
        ("　０３　１２３４　５６７８　", "0312345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_is_normalised_to_half_width_digits_and_hyphens_without_spaces(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("山田 太郎", "山田 太郎"),
        ("山田　太郎", "山田 太郎"),  # full-width space
        ("  山田   太郎  ", "山田 太郎"),  # inner spaces collapsed, outer trimmed
        ("　山田　　太郎　", "山田 太郎"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),  # half-width katakana widened
        ("ＹＡＭＡＤＡ　Ｔａｒｏ", "YAMADA Taro"),
        ("", ""),
        (None, ""),
    ],
)
def test_broker_name_is_width_folded_and_its_spaces_collapsed(raw, expected):
    assert normalise_broker_name(raw) == expected
