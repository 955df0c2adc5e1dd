"""The one place that says what time it is, in Japan time.

Everything that depends on "today" (the start-date window, the answer-due date, UTB hours) asks these functions,
so that tests can stand at any instant by freezing the clock (time-machine).
"""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def now() -> datetime.datetime:
    """The current instant as an aware datetime in Japan time."""
    return timezone.now().astimezone(JST)


def today() -> datetime.date:
    """Today's date in Japan, whatever the server's own time zone."""
    return now().date()


def local_date(moment: datetime.datetime) -> datetime.date:
    """The date in Japan at `moment` (an aware datetime): the day a service given its own "now" stands on."""
    return moment.astimezone(JST).date()


def start_of_day(day: datetime.date) -> datetime.datetime:
    """00:00 in Japan on `day`: where a day of the calendar begins for the rules that count whole days."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=JST)
