"""The UTB businesses and the login of 利用者IDs (utb_gateway/services.py), with an injected clock."""

import datetime

import pytest

from applications import passwords
from applications.exceptions import DomainError
from tests.factories import ContractFactory, NaccsUserIdFactory
from tests.utb_gateway import JST, MONDAY_10, READY_PASSWORD, SATURDAY_10, ready_id, temporary_id
from utb_gateway import result_codes as rc
from utb_gateway import services
from utb_gateway.models import LicenceRegistration, NaccsLoginState, PasswordHistory, UtbAttempt

pytestmark = pytest.mark.django_db

D = datetime.date


def at(year, month, day, hour=10, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=JST)


def register(inputter, target, raw, *, now=MONDAY_10, channel="screen"):
    return services.licence_number_register(
        inputter=inputter, target_user_id=target, raw_licence_number=raw, channel=channel, now=now
    )


def authenticate(*, user_id, password, now=MONDAY_10, client_address="192.0.2.10"):
    return services.naccs_id_authenticate(
        user_id=user_id, password=password, client_address=client_address, now=now
    )


@pytest.fixture
def broker():
    """A 通関士ID, logged in, registering for itself or for the other IDs of its 利用者コード."""
    return ready_id(ContractFactory(user_code="1ANAC"), identifier="A0A")


# --- the result-code table ----------------------------------------------------------------------------------


def test_the_table_has_the_nacc_codes_and_the_projects_own():
    codes = [result.code for result in rc.ALL]
    assert codes == [
        "00000",
        "U0001",
        "U0002",
        "S0001",
        "S0002",
        "S0005",
        "S0006",
        "S0007",
        "L0001",
        "L0002",
    ]
    assert rc.OK.message == "正常終了"
    assert all(result.message for result in rc.ALL)
    assert len({result.message for result in rc.ALL}) == len(rc.ALL)
    assert rc.BY_CODE["S0005"] is rc.S0005


# --- UTB: 00000 -----------------------------------------------------------------------------------------------


def test_the_guides_sample_registers_29_10_and_the_attempt_is_recorded(broker):
    target = NaccsUserIdFactory(contract=broker.contract, identifier="Y27")

    result = register(broker, "1ANACY27", "２９－１０")

    assert result.ok
    assert result.result is rc.OK
    assert (result.user_id, result.licence_number) == ("1ANACY27", "29-10")
    registration = LicenceRegistration.objects.get(naccs_user_id=target)
    assert registration.licence_number == "29-10"
    assert registration.is_current
    assert registration.registered_by == broker
    assert registration.registered_at == MONDAY_10
    attempt = UtbAttempt.objects.get()
    assert attempt.inputter == broker
    assert attempt.channel == "screen"
    assert attempt.target_user_id == "1ANACY27"
    assert attempt.raw_licence_number == "２９－１０"
    assert attempt.normalised_licence_number == "29-10"
    assert attempt.result_code == "00000"
    assert attempt.attempted_at is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("035", "035"), ("12345", "12345"), ("12-97", "12-97"), ("12-7896", "7896"), (" ０３５ ", "035")],
)
def test_the_guides_input_forms(broker, raw, expected):
    result = register(broker, "1ANACA0A", raw)
    assert result.result is rc.OK
    assert result.licence_number == expected
    assert LicenceRegistration.objects.get(naccs_user_id=broker).licence_number == expected


def test_a_target_id_typed_in_lower_case_or_full_width_is_the_same_id(broker):
    result = register(broker, "１anaca0a", "035")
    assert result.result is rc.OK
    assert result.user_id == "1ANACA0A"


# --- UTB: every error code, and nothing registered -------------------------------------------------------------


def assert_refused(result, code, inputter, *, raw):
    assert result.result.code == code
    assert not result.ok
    assert result.licence_number is None
    assert not LicenceRegistration.objects.exists()
    attempt = UtbAttempt.objects.get()
    assert (attempt.inputter, attempt.result_code, attempt.raw_licence_number) == (inputter, code, raw)


@pytest.mark.parametrize("target", ["", "   ", "\u3000"])
def test_s0001_user_id_not_entered(broker, target):
    assert_refused(register(broker, target, "035"), "S0001", broker, raw="035")


@pytest.mark.parametrize("target", ["1ANACA0", "1ANACA0AB", "1ANAC-0A", "1ANAC A0A", "1ANACA0!"])
def test_s0002_user_id_not_of_the_valid_form(broker, target):
    assert_refused(register(broker, target, "035"), "S0002", broker, raw="035")


def test_s0005_an_id_of_another_user_code(broker):
    NaccsUserIdFactory(contract=ContractFactory(user_code="2BDEF"), identifier="Y27")
    assert_refused(register(broker, "2BDEFY27", "035"), "S0005", broker, raw="035")


def test_s0005_across_two_offices_of_one_company_both_ways():
    head = ContractFactory(user_code="1ANAC", company_name="第一通関株式会社", office_name="本社事業所")
    branch = ContractFactory(user_code="1ANAD", company_name="第一通関株式会社", office_name="大阪事業所")
    head_broker = ready_id(head, identifier="A0A")
    branch_broker = ready_id(branch, identifier="B0B")

    assert register(head_broker, "1ANADB0B", "035").result is rc.S0005
    assert register(branch_broker, "1ANACA0A", "035").result is rc.S0005
    assert not LicenceRegistration.objects.exists()
    # each registers its own office's ID
    assert register(head_broker, "1ANACA0A", "035").ok
    assert register(branch_broker, "1ANADB0B", "12345").ok


def test_s0006_an_id_not_registered(broker):
    assert_refused(register(broker, "1ANACZZZ", "035"), "S0006", broker, raw="035")


def test_s0007_an_id_that_is_not_a_customs_broker(broker):
    NaccsUserIdFactory(contract=broker.contract, identifier="N01", is_customs_broker=False)
    assert_refused(register(broker, "1ANACN01", "035"), "S0007", broker, raw="035")


@pytest.mark.parametrize("raw", ["", "  ", "\u3000"])
def test_l0001_licence_number_not_entered(broker, raw):
    assert_refused(register(broker, "1ANACA0A", raw), "L0001", broker, raw=raw)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("abc", "abc"),
        ("123456", "123456"),
        ("12-345678", "12-345678"),
        ("1-2-3", "1-2-3"),
        ("-12", "-12"),
        ("12-", "12-"),
        ("１２ａ", "12a"),
        (" １２ー３４５６７８ ", "12-345678"),
    ],
)
def test_l0002_licence_number_not_of_the_valid_form(broker, raw, normalised):
    result = register(broker, "1ANACA0A", raw)
    assert_refused(result, "L0002", broker, raw=raw)
    assert UtbAttempt.objects.get().normalised_licence_number == normalised


def test_the_checks_follow_the_order_of_the_table(broker):
    """Not started and outside hours → U0001; outside hours with an empty ID → U0002; other code and bad number →
    S0005."""
    not_started = ready_id(broker.contract, identifier="NS1", start_date=D(2026, 12, 1))
    assert register(not_started, "", "", now=SATURDAY_10).result is rc.U0001
    assert register(broker, "", "", now=SATURDAY_10).result is rc.U0002
    assert register(broker, "XXXXXXXX", "bad").result is rc.S0005
    assert register(broker, "1ANACZZZ", "bad").result is rc.S0006
    assert register(broker, "1ANACA0A", "bad").result is rc.L0002


# --- U0001: validity of the logged-in ID -------------------------------------------------------------------------


def test_u0001_before_the_start_date_and_ok_from_it(broker):
    starting = ready_id(broker.contract, identifier="S01", start_date=D(2026, 11, 17))
    assert register(starting, "1ANACS01", "035").result is rc.U0001
    assert register(starting, "1ANACS01", "035", now=at(2026, 11, 17, 0, 0)).result is rc.OK


def test_the_start_date_is_a_date_in_japan(broker):
    """00:30 on the start date in Japan is still the day before in UTC."""
    starting = ready_id(broker.contract, identifier="S01", start_date=D(2026, 11, 17))
    just_after_midnight = datetime.datetime(2026, 11, 16, 15, 30, tzinfo=datetime.UTC)
    assert register(starting, "1ANACS01", "035", now=just_after_midnight).result is rc.OK


def test_u0001_without_a_start_date(broker):
    undated = ready_id(broker.contract, identifier="S02", start_date=None)
    assert register(undated, "1ANACS02", "035").result is rc.U0001


def test_u0001_once_revoked(broker):
    revoked = ready_id(broker.contract, identifier="R01", revoked_at=at(2026, 11, 1))
    result = register(revoked, "1ANACR01", "035")
    assert_refused(result, "U0001", revoked, raw="035")


def test_u0001_while_the_password_is_the_temporary_one(broker):
    fresh = temporary_id(broker.contract, identifier="T01")
    assert_refused(register(fresh, "1ANACT01", "035"), "U0001", fresh, raw="035")
    assert services.utb01_list(inputter=fresh, now=MONDAY_10) == services.Utb01Result(
        rc.U0001, [], reason="パスワードが未変更です。"
    )


def test_the_screen_login_admits_a_temporary_password_but_not_an_id_not_started_or_revoked():
    today = D(2026, 11, 16)
    assert services.naccs_id_may_log_in(temporary_id(), today=today)
    assert not services.naccs_id_usable(temporary_id(), today=today)
    assert not services.naccs_id_may_log_in(ready_id(start_date=D(2026, 11, 17)), today=today)
    assert not services.naccs_id_may_log_in(ready_id(revoked_at=at(2026, 11, 1)), today=today)
    assert services.naccs_id_usable(ready_id(start_date=today), today=today)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"start_date": D(2026, 12, 9)}, "利用開始日（2026年12月9日）より前です。"),
        ({"start_date": None}, "利用開始日が決まっていません。"),
        ({"revoked_at": at(2026, 11, 1)}, "この利用者IDは廃止されています。"),
        ({"revoked_at": at(2026, 11, 1), "password_changed_at": None}, "この利用者IDは廃止されています。"),
        (
            {"start_date": D(2026, 12, 9), "password_changed_at": None},
            "利用開始日（2026年12月9日）より前です。",
        ),
        ({"password_changed_at": None}, "パスワードが未変更です。"),
        ({}, None),
    ],
)
def test_the_reason_of_u0001_comes_from_one_function_and_reaches_the_result(broker, kwargs, reason):
    naccs_id = ready_id(broker.contract, identifier="R01", **kwargs)
    assert services.naccs_id_u0001_reason(naccs_id, today=D(2026, 11, 16)) == reason
    result = register(naccs_id, "1ANACR01", "035")
    assert result.reason == reason
    assert result.result is (rc.U0001 if reason else rc.OK)
    assert services.utb01_list(inputter=naccs_id, now=MONDAY_10).reason == reason
    # the result code's message stays the one of the table
    assert result.result.message == (rc.U0001 if reason else rc.OK).message


def test_the_screen_login_refuses_an_id_not_started_with_u0001_and_the_reason(broker):
    ready_id(broker.contract, identifier="S01", start_date=D(2026, 12, 9))
    with pytest.raises(services.UtbLoginError) as refused:
        services.naccs_id_screen_login(
            user_id="1ANACS01", password=READY_PASSWORD, client_address="192.0.2.10", now=MONDAY_10
        )
    assert refused.value.result is rc.U0001
    assert refused.value.message == rc.U0001.message
    assert refused.value.reason == "利用開始日（2026年12月9日）より前です。"
    fresh = temporary_id(broker.contract, identifier="T01")
    assert (
        services.naccs_id_screen_login(
            user_id="1ANACT01", password="TEMP0001", client_address="192.0.2.10", now=MONDAY_10
        )
        == fresh
    )


# --- U0002: hours -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (at(2026, 11, 20, 22, 59), True),  # Friday 22:59
        (datetime.datetime(2026, 11, 20, 22, 59, 59, 999999, tzinfo=JST), True),
        (at(2026, 11, 20, 23, 0), False),  # Friday 23:00
        (at(2026, 11, 20, 23, 59), False),
        (at(2026, 11, 16, 0, 0), True),  # Monday 00:00
        (at(2026, 11, 21, 10, 0), False),  # Saturday
        (at(2026, 11, 22, 10, 0), False),  # Sunday
        (at(2026, 11, 23, 10, 0), False),  # 勤労感謝の日 (a Monday)
        (at(2026, 11, 24, 0, 0), True),  # the Tuesday after
        # aware instants in another zone are judged in Japan time
        (datetime.datetime(2026, 11, 20, 14, 0, tzinfo=datetime.UTC), False),  # Fri 23:00 JST
        (datetime.datetime(2026, 11, 15, 15, 0, tzinfo=datetime.UTC), True),  # Mon 00:00 JST (Sun in UTC)
    ],
)
def test_utb_hours(now, open_):
    assert services.utb_hours_open(now) is open_


def test_a_holiday_is_open_when_the_setting_counts_it_as_a_weekday(settings):
    settings.NSS_UTB_OPEN_ON_HOLIDAYS = True
    assert services.utb_hours_open(at(2026, 11, 23, 10, 0))
    assert services.utb_hours_open(at(2026, 11, 23, 0, 0))
    assert not services.utb_hours_open(at(2026, 11, 23, 23, 0))
    # it does not open weekends
    assert not services.utb_hours_open(at(2026, 11, 21, 10, 0))


def test_u0002_outside_hours_registers_nothing_and_answers_no_list(broker):
    assert_refused(
        register(broker, "1ANACA0A", "035", now=at(2026, 11, 20, 23, 0)), "U0002", broker, raw="035"
    )
    assert services.utb01_list(inputter=broker, now=at(2026, 11, 23, 10, 0)) == services.Utb01Result(rc.U0002)


def test_a_holiday_registration_with_the_setting(broker, settings):
    assert register(broker, "1ANACA0A", "035", now=at(2026, 11, 23)).result is rc.U0002
    settings.NSS_UTB_OPEN_ON_HOLIDAYS = True
    assert register(broker, "1ANACA0A", "035", now=at(2026, 11, 23)).result is rc.OK


def test_the_services_read_the_clock_when_no_instant_is_given(broker, frozen_clock):
    frozen_clock.move_to(SATURDAY_10)
    assert (
        services.licence_number_register(
            inputter=broker, target_user_id="1ANACA0A", raw_licence_number="035", channel="api"
        ).result
        is rc.U0002
    )
    frozen_clock.move_to(MONDAY_10)
    assert (
        services.licence_number_register(
            inputter=broker, target_user_id="1ANACA0A", raw_licence_number="035", channel="api"
        ).result
        is rc.OK
    )


# --- registering again, history ----------------------------------------------------------------------------------


def test_registering_again_replaces_the_number_and_keeps_the_history(broker):
    target = NaccsUserIdFactory(contract=broker.contract, identifier="Y27")
    assert register(broker, "1ANACY27", "035", now=MONDAY_10).ok
    later = MONDAY_10 + datetime.timedelta(hours=1)
    assert register(broker, "1ANACY27", "12-7896", now=later).ok

    rows = list(LicenceRegistration.objects.filter(naccs_user_id=target).order_by("id"))
    assert [(row.licence_number, row.is_current) for row in rows] == [("035", False), ("7896", True)]
    answer = services.utb01_list(inputter=broker, now=later)
    assert answer.result is rc.OK
    assert {item.user_id: item.licence_number for item in answer.items}["1ANACY27"] == "7896"
    assert {item.user_id: item.registered_at for item in answer.items}["1ANACY27"] == later


def test_a_refused_attempt_keeps_the_current_number(broker):
    assert register(broker, "1ANACA0A", "035").ok
    assert register(broker, "1ANACA0A", "abc").result is rc.L0002
    assert LicenceRegistration.objects.get(is_current=True).licence_number == "035"
    assert UtbAttempt.objects.count() == 2


# --- UTB01 ----------------------------------------------------------------------------------------------------


def test_utb01_lists_every_customs_broker_id_of_the_user_code(broker):
    NaccsUserIdFactory(contract=broker.contract, identifier="Y27")
    NaccsUserIdFactory(contract=broker.contract, identifier="B01")
    NaccsUserIdFactory(contract=broker.contract, identifier="N01", is_customs_broker=False)
    other = NaccsUserIdFactory(contract=ContractFactory(user_code="2BDEF"), identifier="Y27")
    LicenceRegistration.objects.create(naccs_user_id=other, licence_number="999", registered_by=other)
    assert register(broker, "1ANACY27", "２９－１０").ok

    answer = services.utb01_list(inputter=broker, now=MONDAY_10)

    assert answer.result is rc.OK
    assert answer.reason is None
    items = answer.items
    assert [(item.user_id, item.licence_number, item.registered_at) for item in items] == [
        ("1ANACA0A", None, None),
        ("1ANACB01", None, None),
        ("1ANACY27", "29-10", MONDAY_10),
    ]
    assert {item.processing_method for item in items} == {"interactive"}


# --- login and lockout ------------------------------------------------------------------------------------------


def test_authenticate_with_the_right_password(broker):
    assert authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=MONDAY_10) == broker


@pytest.mark.parametrize("typed", ["1anaca0a", "１ＡＮＡＣＡ０Ａ", "　1ANACA0A ", "１ａｎａｃａ０ａ"])
def test_a_user_id_is_folded_like_an_identifier_at_login_and_as_the_target(broker, typed):
    """The 利用者ID as typed goes through the 識別番号's normaliser (applications/identifiers.py): full width,
    lower case and surrounding spaces are the same ID at the login and as the ID a number is registered for."""
    assert authenticate(user_id=typed, password=READY_PASSWORD, now=MONDAY_10) == broker
    result = register(broker, typed, "12-97")
    assert result.ok and result.user_id == "1ANACA0A"


@pytest.mark.parametrize(
    ("user_id", "password"),
    [("1ANACA0A", "WRONG123"), ("1ANACA0A", ""), ("1ANACZZZ", READY_PASSWORD), ("nonsense", READY_PASSWORD)],
)
def test_a_wrong_password_or_unknown_id_is_refused_with_one_message(broker, user_id, password):
    with pytest.raises(services.UtbLoginError) as refused:
        authenticate(user_id=user_id, password=password, now=MONDAY_10)
    assert refused.value.message == "利用者IDまたはパスワードが正しくありません。"


def test_lockout_after_the_set_number_of_failures_and_unlock_after_the_set_minutes(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    settings.NSS_UTB_LOCKOUT_MINUTES = 10
    # verified once before: the cached verification must not slip past the lock
    authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=MONDAY_10)
    for _attempt in range(3):
        with pytest.raises(services.UtbLoginError):
            authenticate(user_id="1ANACA0A", password="WRONG123", now=MONDAY_10)

    for moment in (MONDAY_10, MONDAY_10 + datetime.timedelta(minutes=9, seconds=59)):
        with pytest.raises(services.UtbLoginError) as locked:
            authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=moment)
        # the same message as a wrong password: a locked ID is not told apart
        assert locked.value.message == "利用者IDまたはパスワードが正しくありません。"
    unlocked_at = MONDAY_10 + datetime.timedelta(minutes=10, seconds=1)
    assert authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=unlocked_at) == broker


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_resets_the_count(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    for _round in range(3):
        for _attempt in range(2):
            with pytest.raises(services.UtbLoginError):
                authenticate(user_id="1ANACA0A", password="WRONG123", now=MONDAY_10)
        authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=MONDAY_10)
    assert NaccsLoginState.objects.get(naccs_user_id=broker, client_address="192.0.2.10").failed_logins == 0


# --- password change (URY rule) --------------------------------------------------------------------------------


def change(naccs_id, current, new, now=MONDAY_10):
    return services.naccs_password_change(
        naccs_id=naccs_id, current_password=current, new_password=new, now=now
    )


def test_a_temporary_password_is_changed():
    fresh = temporary_id(password="TEMP0001")
    changed = change(fresh, "TEMP0001", "NEW9PASS")
    fresh.refresh_from_db()
    assert fresh.password_changed_at == MONDAY_10
    assert passwords.check_naccs_password("NEW9PASS", fresh.password_hash)
    assert not passwords.check_naccs_password("TEMP0001", fresh.password_hash)
    assert changed.password_hash == fresh.password_hash
    assert PasswordHistory.objects.filter(naccs_user_id=fresh).count() == 1
    assert services.naccs_id_usable(fresh, today=D(2026, 11, 16))
    # the initial password stays for the ID notice (it is encrypted elsewhere; the hash is what changed)
    with pytest.raises(services.UtbLoginError):
        authenticate(user_id=fresh.naccs_user_id, password="TEMP0001", now=MONDAY_10)


@pytest.mark.parametrize("new", ["ABCD1234", "ABC123", "A2345678", "1BCDEFGH"])
def test_6_to_8_upper_case_letters_and_digits_both_present_are_accepted(broker, new):
    change(broker, READY_PASSWORD, new)


@pytest.mark.parametrize(
    "new",
    [
        "ABC12",  # 5 characters
        "ABCD12345",  # 9 characters
        "abc123",  # lower case
        "Abc123",
        "ABCDEF",  # no digit
        "123456",  # no letter
        "ABC-12",  # a symbol
        "ABC 12",
        "ＡＢＣ１２３",  # full-width
        "",
    ],
)
def test_passwords_breaking_the_rule_are_refused(broker, new):
    with pytest.raises(DomainError) as refused:
        change(broker, READY_PASSWORD, new)
    assert refused.value.field == "new_password"
    broker.refresh_from_db()
    assert passwords.check_naccs_password(READY_PASSWORD, broker.password_hash)
    assert not PasswordHistory.objects.exists()


def test_the_current_password_must_be_right(broker):
    with pytest.raises(DomainError) as refused:
        change(broker, "WRONG123", "NEW9PASS")
    assert refused.value.field == "current_password"


def test_none_of_the_last_three_passwords_current_included(broker):
    with pytest.raises(DomainError):
        change(broker, READY_PASSWORD, READY_PASSWORD)  # the current one
    change(broker, READY_PASSWORD, "PASS0001")
    change(broker, "PASS0001", "PASS0002")
    for reused in (READY_PASSWORD, "PASS0001", "PASS0002"):
        with pytest.raises(DomainError) as refused:
            change(broker, "PASS0002", reused)
        assert refused.value.message == "直近3回までに使用したパスワードは使用できません。"
    change(broker, "PASS0002", "PASS0003")
    # READY123 is now the fourth password back: usable again; PASS0001 is still among the last three
    with pytest.raises(DomainError):
        change(broker, "PASS0003", "PASS0001")
    change(broker, "PASS0003", READY_PASSWORD)
