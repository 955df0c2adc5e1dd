"""Business days of the NACCS centre: Monday to Friday except Japanese public holidays.

Public holidays come from the maintained `holidays` package (its Japan calendar follows the Cabinet Office list,
including substitute holidays 振替休日 and citizens' holidays 国民の休日), never from a hand-typed list.
SPEC §3 defines a business day as Monday–Friday and not a public holiday, so that is the default. Days on which the
centre is closed although they are neither (a year-end closure such as 12/29–1/3) can be added with the setting
NSS_CENTRE_CLOSED_DAYS, a list of (month, day) pairs, without a release.
"""

import datetime
from functools import lru_cache

import holidays
from django.conf import settings


@lru_cache(maxsize=64)
def _japanese_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def is_public_holiday(day: datetime.date) -> bool:
    return day in _japanese_holidays(day.year)


def holiday_name(day: datetime.date) -> str | None:
    return _japanese_holidays(day.year).get(day)


def _closed_days() -> tuple[tuple[int, int], ...]:
    return tuple(tuple(pair) for pair in settings.NSS_CENTRE_CLOSED_DAYS)


def is_business_day(day: datetime.date) -> bool:
    """Monday–Friday, not a Japanese public holiday, not a day on which the centre is closed."""
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in _closed_days():
        return False
    return not is_public_holiday(day)


def add_business_days(day: datetime.date, count: int) -> datetime.date:
    """The date `count` business days after `day` (`day` itself does not count, whether or not it is one)."""
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    remaining = count
    while remaining:
        current += datetime.timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def next_business_day(day: datetime.date) -> datetime.date:
    """The first business day strictly after `day`."""
    return add_business_days(day, 1)


def business_day_on_or_after(day: datetime.date) -> datetime.date:
    """`day` itself when it is a business day, else the next one."""
    return day if is_business_day(day) else next_business_day(day)


def business_days_up_to(day: datetime.date, count: int) -> list[datetime.date]:
    """The last `count` business days up to `day` (included when it is one), oldest first."""
    if count < 0:
        raise ValueError("count must not be negative")
    days: list[datetime.date] = []
    current = day
    while len(days) < count:
        if is_business_day(current):
            days.append(current)
        current -= datetime.timedelta(days=1)
    return days[::-1]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Calendar months later, clamped to the month's last day (11/30 + 3 months = 2/28 or 2/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
