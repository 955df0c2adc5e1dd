"""Dates as people read them, in the language they read: 2026年12月2日 in Japanese, 2 December 2026 in English.

The one implementation behind the template filters (`{% load nss_dates %}`: `nss_date`, `nss_datetime`) and the
Python callers (the messages of the rules and services, the context of e-mails). A page shows its own language;
an e-mail is written in settings.LANGUAGE_CODE (notifications renders it so), and what is formatted for it in
Python passes `language=settings.LANGUAGE_CODE`. Instants are shown in Japan time (applications/clock.py).
"""

import contextlib
import datetime

from django.conf import settings
from django.utils import dateformat, timezone, translation

from .clock import JST

# Django date-format strings per language; any other language is shown as Japanese, the portal's own.
DATE_FORMATS = {"ja": "Y年n月j日", "en": "j F Y"}
# A day of every year (the centre's closed days): 12月29日 / 29 December.
MONTH_DAY_FORMATS = {"ja": "n月j日", "en": "j F"}
TIME_FORMAT = "H:i"


def _language_code(language: str | None) -> str:
    return (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def _date_format(language: str | None) -> str:
    return DATE_FORMATS.get(_language_code(language), DATE_FORMATS["ja"])


def _in(language: str | None):
    return translation.override(language) if language else contextlib.nullcontext()


def _japan_time(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(JST) if timezone.is_aware(moment) else moment


def format_date(value: datetime.date | None, *, language: str | None = None) -> str:
    """The day (of an instant: its day in Japan) in `language`, by default the active one; "" for none."""
    if not isinstance(value, datetime.date):
        return ""
    if isinstance(value, datetime.datetime):
        value = _japan_time(value).date()
    with _in(language):
        return dateformat.format(value, _date_format(language))


def format_datetime(value: datetime.datetime | None, *, language: str | None = None) -> str:
    """The day and the time of an instant in Japan, 2026年12月2日 10:05 / 2 December 2026 10:05; "" for none."""
    if not isinstance(value, datetime.datetime):
        return ""
    local = _japan_time(value)
    return f"{format_date(local, language=language)} {dateformat.format(local, TIME_FORMAT)}"


def format_month_day(month: int, day: int, *, language: str | None = None) -> str:
    """A day of every year, without the year: 12月29日 / 29 December."""
    # A leap year, so that 2/29 can be named too.
    value = datetime.date(2028, month, day)
    with _in(language):
        return dateformat.format(
            value, MONTH_DAY_FORMATS.get(_language_code(language), MONTH_DAY_FORMATS["ja"])
        )
