"""Business days of the NACCS centre: Monday to Friday except Japanese public holidays.

Public holidays come from the maintained `holidays` package (its Japan calendar follows the Cabinet Office list,
including substitute holidays 振替休日 and citizens' holidays 国民の休日), never from a hand-typed list.
SPEC §3 defines a business day as Monday–Friday and not a public holiday. Besides those the centre is closed on the
days of the setting NSS_CENTRE_CLOSED_DAYS, a list of (month, day) pairs of every year: by default the year-end
closure 年末年始, 12/29–1/3, as Japanese offices keep it (set it to "" for none, or other days, without a release).
"""

import contextlib
import datetime
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .dates import format_month_day


@lru_cache(maxsize=64)
def _japanese_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def is_public_holiday(day: datetime.date) -> bool:
    return day in _japanese_holidays(day.year)


def holiday_name(day: datetime.date) -> str | None:
    return _japanese_holidays(day.year).get(day)


def _closed_days() -> tuple[tuple[int, int], ...]:
    return tuple(tuple(pair) for pair in settings.NSS_CENTRE_CLOSED_DAYS)


def is_centre_closed_day(day: datetime.date) -> bool:
    """One of the centre's own closed days (NSS_CENTRE_CLOSED_DAYS), whatever the day of the week."""
    return (day.month, day.day) in _closed_days()


def is_business_day(day: datetime.date) -> bool:
    """Monday–Friday, not a Japanese public holiday, not a day on which the centre is closed."""
    if day.weekday() >= 5:
        return False
    if is_centre_closed_day(day):
        return False
    return not is_public_holiday(day)


# A leap year, so that every (month, day) has its place; and the years over which a day counts as a public
# holiday "every year" (元日).
_CALENDAR_YEAR = 2028
_HOLIDAY_YEARS = range(2025, 2035)


def _always_a_holiday(month: int, day: int) -> bool:
    return all(
        is_public_holiday(datetime.date(year, month, day))
        for year in _HOLIDAY_YEARS
        if (month, day) != (2, 29) or year % 4 == 0
    )


def closed_periods() -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The centre's closed days as periods of consecutive days, (first, last) as (month, day): by default one,
    ((12, 29), (1, 3)). A public holiday of every year between two closed days (元日) belongs to the period; a
    period over the turn of the year comes last."""
    closed = set(_closed_days())
    days = [
        datetime.date(_CALENDAR_YEAR, 1, 1) + datetime.timedelta(days=offset)
        for offset in range(366 if _CALENDAR_YEAR % 4 == 0 else 365)
    ]
    keys = [(day.month, day.day) for day in days]
    member = [key in closed for key in keys]
    for index, key in enumerate(keys):
        if not member[index] and _always_a_holiday(*key):
            member[index] = member[index - 1] and member[(index + 1) % len(keys)]
    runs: list[list[int]] = []
    for index, is_member in enumerate(member):
        if not is_member:
            continue
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == len(keys) - 1:
        runs[-1][1] = runs.pop(0)[1]  # over the turn of the year
    return [(keys[first], keys[last]) for first, last in runs]


def closed_periods_text(*, language: str | None = None) -> str:
    """The closed periods as people read them: 「年末年始（12月29日～1月3日）」; "" when there are none."""
    with translation.override(language) if language else contextlib.nullcontext():
        texts = []
        for first, last in closed_periods():
            text = format_month_day(*first)
            if first != last:
                text = _("%(start)s～%(end)s") % {"start": text, "end": format_month_day(*last)}
            if last < first:
                text = _("年末年始（%(period)s）") % {"period": text}
            texts.append(text)
        return _("、").join(texts)


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
