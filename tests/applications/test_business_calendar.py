"""Business days of the NACCS centre (SPEC §3): Monday–Friday, no public holiday, no closed day — by default the
year-end closure 年末年始, 12/29–1/3 (NSS_CENTRE_CLOSED_DAYS).

Expected dates come from the Cabinet Office holiday list for 2026–2028, written out by hand here,
so that a wrong calendar (or one that ignores 振替休日) makes these tests fail.
"""

import ast
import datetime
import os
import subprocess
import sys

import holidays
import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications.business_calendar import (
    add_business_days,
    add_months,
    business_day_on_or_after,
    business_days_up_to,
    closed_periods,
    closed_periods_text,
    holiday_name,
    is_business_day,
    is_centre_closed_day,
    is_public_holiday,
    next_business_day,
)

D = datetime.date

YEAR_END_CLOSURE = [(12, 29), (12, 30), (12, 31), (1, 2), (1, 3)]


# --- is_business_day ---


@pytest.mark.parametrize(
    "day",
    [
        D(2027, 4, 26),  # Mon before Golden Week
        D(2027, 4, 28),  # Wed between weekend and 昭和の日
        D(2027, 4, 30),  # Fri between 昭和の日 and the May holidays
        D(2027, 5, 6),  # Thu right after こどもの日
        D(2026, 12, 28),  # Mon: the last business day before the year-end closure
        D(2027, 1, 4),  # Mon: first weekday of the year after the closure
        D(2027, 3, 23),  # Tue after the substitute holiday
        D(2028, 1, 4),  # Tue: the first business day of 2028
    ],
)
def test_weekday_that_is_no_public_holiday_is_a_business_day(day):
    assert day.weekday() < 5
    assert is_business_day(day) is True


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2027, 4, 29), "昭和の日"),
        (D(2027, 5, 3), "憲法記念日"),
        (D(2027, 5, 4), "みどりの日"),
        (D(2027, 5, 5), "こどもの日"),
        (D(2027, 1, 1), "元日"),
        (D(2027, 3, 22), "振替休日"),  # 春分の日 fell on Sunday 2027-03-21
        (D(2026, 5, 6), "振替休日"),  # 憲法記念日 fell on Sunday 2026-05-03
        (D(2026, 9, 22), "国民の休日"),  # a weekday between two holidays
        (D(2027, 1, 11), "成人の日"),  # happy-Monday holiday
    ],
)
def test_weekday_public_holiday_is_not_a_business_day_and_has_its_japanese_name(day, name):
    assert day.weekday() < 5
    assert is_public_holiday(day) is True
    assert is_business_day(day) is False
    assert holiday_name(day) == name


@pytest.mark.parametrize("day", [D(2027, 5, 1), D(2027, 5, 2), D(2027, 1, 2), D(2027, 1, 3), D(2027, 4, 24)])
def test_saturday_and_sunday_are_not_business_days(day):
    assert day.weekday() >= 5
    assert is_business_day(day) is False


def test_holiday_on_a_sunday_is_not_a_business_day():
    assert D(2027, 3, 21).weekday() == 6
    assert holiday_name(D(2027, 3, 21)) == "春分の日"
    assert is_business_day(D(2027, 3, 21)) is False


def test_ordinary_day_has_no_holiday_name():
    assert holiday_name(D(2027, 4, 28)) is None
    assert is_public_holiday(D(2027, 4, 28)) is False


def test_by_default_the_centre_is_closed_over_the_year_end():
    # 2027-12-29..31 are Wed–Fri, no public holidays; 2028-01-03 is a Monday (元日 fell on a Saturday, which has
    # no substitute holiday): all closed by default, like 1/2 and 1/3 in any year.
    for day in (D(2027, 12, 29), D(2027, 12, 30), D(2027, 12, 31), D(2028, 1, 3), D(2026, 12, 29)):
        assert not is_public_holiday(day)
        assert is_centre_closed_day(day)
        assert is_business_day(day) is False
    assert is_business_day(D(2027, 12, 28)) is True
    assert is_business_day(D(2028, 1, 4)) is True


@pytest.mark.parametrize("day", [D(2026, 12, 31), D(2027, 12, 29), D(2028, 1, 3)])
def test_with_no_closed_days_the_year_end_weekdays_are_business_days(settings, day):
    # NSS_CENTRE_CLOSED_DAYS="" (an empty list) switches the closure off: SPEC §3's calendar alone.
    settings.NSS_CENTRE_CLOSED_DAYS = []
    assert day.weekday() < 5
    assert is_business_day(day) is True
    assert not is_centre_closed_day(day)


def test_with_no_closed_days_the_year_end_counts_only_weekends_and_gantan(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = []
    assert add_business_days(D(2026, 12, 30), 1) == D(2026, 12, 31)
    assert add_business_days(D(2026, 12, 30), 2) == D(2027, 1, 4)  # over 元日 and the weekend
    assert next_business_day(D(2027, 12, 31)) == D(2028, 1, 3)


def _closed_days_setting(value: str | None):
    """NSS_CENTRE_CLOSED_DAYS as nss_portal/settings.py reads it from the environment (a fresh process)."""
    env = {key: item for key, item in os.environ.items() if key != "NSS_CENTRE_CLOSED_DAYS"}
    if value is not None:
        env["NSS_CENTRE_CLOSED_DAYS"] = value
    env["DJANGO_SETTINGS_MODULE"] = "nss_portal.settings"
    code = "from django.conf import settings; print(repr(settings.NSS_CENTRE_CLOSED_DAYS))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip())


def test_the_setting_closes_the_year_end_unless_it_is_set_empty_or_to_other_days():
    assert _closed_days_setting(None) == [(12, 29), (12, 30), (12, 31), (1, 2), (1, 3)]
    assert _closed_days_setting("") == []
    assert _closed_days_setting("8-13,8-14") == [(8, 13), (8, 14)]


def test_centre_closed_day_setting_makes_12_29_no_business_day(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(12, 29)]
    assert is_business_day(D(2027, 12, 29)) is False
    # Only the listed day: the days around it stay open.
    assert is_business_day(D(2027, 12, 28)) is True
    assert is_business_day(D(2027, 12, 30)) is True


def test_centre_closed_day_setting_applies_to_every_year(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(12, 29)]
    assert is_business_day(D(2026, 12, 29)) is False  # a Tuesday
    assert is_business_day(D(2028, 12, 29)) is False  # a Friday


def test_centre_closed_days_may_be_given_as_lists(settings):
    # Settings read from JSON/environment give lists, not tuples.
    settings.NSS_CENTRE_CLOSED_DAYS = [[12, 29], [12, 30]]
    assert is_business_day(D(2027, 12, 29)) is False
    assert is_business_day(D(2027, 12, 30)) is False
    assert is_business_day(D(2027, 12, 31)) is True


def test_the_closed_days_read_as_one_year_end_period_with_gantan():
    assert closed_periods() == [((12, 29), (1, 3))]
    assert closed_periods_text() == "年末年始（12月29日～1月3日）"


def test_closed_periods_are_runs_of_days_and_only_a_holiday_between_two_closed_days_joins_them(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(8, 13), (8, 14), (8, 15), (12, 31), (1, 2), (5, 1)]
    # 元日 joins 12/31 and 1/2; 5/2 is no holiday, so 5/1 stays alone (and 5/3 is not closed).
    assert closed_periods() == [((5, 1), (5, 1)), ((8, 13), (8, 15)), ((12, 31), (1, 2))]
    assert closed_periods_text() == "5月1日、8月13日～8月15日、年末年始（12月31日～1月2日）"
    settings.NSS_CENTRE_CLOSED_DAYS = [(12, 29), (12, 30), (12, 31)]
    assert closed_periods_text() == "12月29日～12月31日"  # 元日 does not extend a period that ends before it


def test_no_closed_days_read_as_nothing(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = []
    assert closed_periods() == []
    assert closed_periods_text() == ""


# --- add_business_days / next_business_day ---


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (D(2027, 4, 26), 1, D(2027, 4, 27)),  # Mon → Tue
        (D(2027, 4, 23), 1, D(2027, 4, 26)),  # Fri → Mon over the weekend
        (D(2027, 4, 27), 2, D(2027, 4, 30)),  # Tue + 2 skips 昭和の日
        (D(2027, 4, 28), 1, D(2027, 4, 30)),
        (D(2027, 4, 28), 2, D(2027, 5, 6)),  # across the whole of Golden Week
        (D(2027, 4, 30), 1, D(2027, 5, 6)),
        (D(2027, 5, 1), 1, D(2027, 5, 6)),  # from a Saturday: the start itself does not count
        (D(2027, 5, 3), 2, D(2027, 5, 7)),  # from a holiday
        (D(2026, 12, 28), 1, D(2027, 1, 4)),  # over the closure, 元日 and the weekend
        (D(2026, 12, 30), 1, D(2027, 1, 4)),  # from a closed day
        (D(2026, 12, 31), 2, D(2027, 1, 5)),
        (D(2027, 3, 19), 1, D(2027, 3, 23)),  # Fri → Tue over the substitute holiday
        (D(2027, 4, 27), 10, D(2027, 5, 17)),
    ],
)
def test_add_business_days_skips_weekends_and_public_holidays(start, count, expected):
    assert add_business_days(start, count) == expected


@pytest.mark.parametrize("day", [D(2027, 4, 27), D(2027, 5, 1), D(2027, 4, 29)])
def test_adding_zero_business_days_is_the_day_itself(day):
    assert add_business_days(day, 0) == day


def test_adding_a_negative_number_of_business_days_is_refused():
    with pytest.raises(ValueError):
        add_business_days(D(2027, 4, 27), -1)


def test_add_business_days_over_the_year_end_closure(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = YEAR_END_CLOSURE
    # 12/28 Mon; 12/29–31 closed, 1/1 元日, 1/2–3 weekend (and closed), 1/4 Mon.
    assert add_business_days(D(2026, 12, 28), 1) == D(2027, 1, 4)
    assert add_business_days(D(2026, 12, 30), 2) == D(2027, 1, 5)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2027, 4, 26), D(2027, 4, 27)),  # strictly after, even from a business day
        (D(2027, 4, 28), D(2027, 4, 30)),
        (D(2027, 4, 30), D(2027, 5, 6)),
        (D(2027, 5, 4), D(2027, 5, 6)),
        (D(2026, 12, 31), D(2027, 1, 4)),
        (D(2027, 3, 19), D(2027, 3, 23)),
        (D(2027, 12, 28), D(2028, 1, 4)),  # the closure, then the first business day of 2028
    ],
)
def test_next_business_day_is_the_first_business_day_strictly_after(day, expected):
    assert next_business_day(day) == expected


def test_next_business_day_honours_centre_closed_days(settings):
    settings.NSS_CENTRE_CLOSED_DAYS = [(12, 29)]
    assert next_business_day(D(2027, 12, 28)) == D(2027, 12, 30)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2027, 4, 28), D(2027, 4, 28)),
        (D(2027, 4, 29), D(2027, 4, 30)),
        (D(2027, 5, 1), D(2027, 5, 6)),
        (D(2027, 3, 21), D(2027, 3, 23)),
    ],
)
def test_business_day_on_or_after_keeps_a_business_day_and_moves_any_other(day, expected):
    assert business_day_on_or_after(day) == expected


_JP = holidays.country_holidays("JP", years=range(2025, 2031))


def _oracle_is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _JP and (day.month, day.day) not in YEAR_END_CLOSURE


@hypothesis_settings(max_examples=200)
@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2029, 12, 31)),
    count=st.integers(min_value=0, max_value=30),
)
def test_add_business_days_counts_exactly_count_business_days(start, count):
    result = add_business_days(start, count)
    between = [start + datetime.timedelta(days=n) for n in range(1, (result - start).days + 1)]
    assert sum(_oracle_is_business_day(day) for day in between) == count
    if count:
        assert _oracle_is_business_day(result)


# --- business_days_up_to ---


def test_business_days_up_to_a_business_day_end_with_it_oldest_first():
    # Golden Week 2027: 4/29 昭和の日, 5/3–5/5 holidays, weekends in between.
    expected = [D(2027, 4, 27), D(2027, 4, 28), D(2027, 4, 30), D(2027, 5, 6)]
    assert business_days_up_to(D(2027, 5, 6), 4) == expected


def test_business_days_up_to_a_holiday_end_with_the_business_day_before_it():
    assert business_days_up_to(D(2027, 5, 5), 2) == [D(2027, 4, 28), D(2027, 4, 30)]


def test_business_days_up_to_zero_is_none_and_a_negative_count_is_refused():
    assert business_days_up_to(D(2027, 5, 6), 0) == []
    with pytest.raises(ValueError, match="negative"):
        business_days_up_to(D(2027, 5, 6), -1)


@hypothesis_settings(max_examples=100)
@given(
    day=st.dates(min_value=D(2025, 3, 1), max_value=D(2029, 12, 31)),
    count=st.integers(min_value=1, max_value=25),
)
def test_business_days_up_to_are_exactly_the_last_count_business_days(day, count):
    result = business_days_up_to(day, count)
    span = [result[0] + datetime.timedelta(days=n) for n in range((day - result[0]).days + 1)]
    assert result == [d for d in span if _oracle_is_business_day(d)]
    assert len(result) == count


# --- add_months ---


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2027, 4, 27), 3, D(2027, 7, 27)),
        (D(2027, 4, 27), 0, D(2027, 4, 27)),
        (D(2027, 4, 27), 12, D(2028, 4, 27)),
        (D(2027, 11, 15), 3, D(2028, 2, 15)),  # over the year end
        (D(2027, 12, 15), 1, D(2028, 1, 15)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),  # clamped to the end of a common-year February
        (D(2027, 11, 30), 3, D(2028, 2, 29)),  # clamped to the end of a leap-year February
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2027, 10, 31), 1, D(2027, 11, 30)),  # 30-day month
        (D(2027, 5, 31), 3, D(2027, 8, 31)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2027, 3, 31), -1, D(2027, 2, 28)),
        (D(2027, 1, 15), -1, D(2026, 12, 15)),
    ],
)
def test_add_months_is_calendar_months_clamped_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected
