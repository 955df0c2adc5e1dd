"""Dates as people read them, in the language they read: 2026年12月2日 in Japanese, 2 December 2026 in English.

The one implementation behind the template filters (`{% load nss_dates %}`: `nss_date`, `nss_datetime`) and the
Python callers (the messages of the rules and services, the context of e-mails). A page shows its own language;
an e-mail is written in settings.LANGUAGE_CODE (notifications renders it so), and what is formatted for it in
Python passes `language=settings.LANGUAGE_CODE`. Instants are shown in Japan time (applications/clock.py).
"""

import datetime

from django.conf import settings
from django.utils import timezone, translation

from .clock import JST

# What the formats are, as Django date-format strings per language (any other language is shown as Japanese, the
# portal's own); `_written` writes them out, and tests/applications/test_dates.py holds it to these.
DATE_FORMATS = {"ja": "Y年n月j日", "en": "j F Y"}
# A day of every year (the centre's closed days): 12月29日 / 29 December.
MONTH_DAY_FORMATS = {"ja": "n月j日", "en": "j F"}


def _language_code(language: str | None) -> str:
    return (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def _japan_time(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(JST) if timezone.is_aware(moment) else moment


# The formats written out: a list page formats a few hundred dates, and Django's dateformat (a format-string
# interpreter, with a translation lookup per month name) costs several times as much per date.
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _written(value: datetime.date, language: str | None, *, year: bool = True) -> str:
    if _language_code(language) == "en":
        text = f"{value.day} {ENGLISH_MONTHS[value.month - 1]}"
        return f"{text} {value.year}" if year else text
    text = f"{value.month}月{value.day}日"
    return f"{value.year}年{text}" if year else text


def format_date(value: datetime.date | None, *, language: str | None = None) -> str:
    """The day (of an instant: its day in Japan) in `language`, by default the active one; "" for none."""
    if not isinstance(value, datetime.date):
        return ""
    if isinstance(value, datetime.datetime):
        value = _japan_time(value).date()
    return _written(value, language)


def format_datetime(value: datetime.datetime | None, *, language: str | None = None) -> str:
    """The day and the time of an instant in Japan, 2026年12月2日 10:05 / 2 December 2026 10:05; "" for none."""
    if not isinstance(value, datetime.datetime):
        return ""
    local = _japan_time(value)
    return f"{_written(local.date(), language)} {local:%H:%M}"


def format_ymd(value: datetime.date | None) -> str:
    """2026/12/09, in every language (the staff tables, the CSV); an instant's day in Japan; "" for none."""
    if not isinstance(value, datetime.date):
        return ""
    if isinstance(value, datetime.datetime):
        value = _japan_time(value).date()
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_hm(value: datetime.datetime | None) -> str:
    """10:05, an instant's time in Japan; "" for none."""
    if not isinstance(value, datetime.datetime):
        return ""
    return f"{_japan_time(value):%H:%M}"


def format_month_day(month: int, day: int, *, language: str | None = None) -> str:
    """A day of every year, without the year: 12月29日 / 29 December."""
    # A leap year, so that 2/29 can be named too.
    return _written(datetime.date(2028, month, day), language, year=False)
