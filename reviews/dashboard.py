"""業務状況, the dashboard of the staff workplace (SPEC §8): what the centre received (受付, by submitted_at) and
decided (審査終了 or 不受理, by decided_at) on each of the last 20 business days, as a chart (an SVG drawn on the
server, no script) and a table; how long a decision took from 受付 to the decision (median and 90th percentile);
and what is open and overdue now.

Everything is counted in the database, in three queries whatever the number of applications; the only loops run
over the ≤ 20 days. Days are days in Japan (applications/clock.py) and only business days are buckets
(applications/business_calendar.py): what arrives or is decided on a weekend or holiday counts on the business day
after it, the day the centre sees it, so the days add up to every application of the window. A day's bucket is
therefore the range of instants from the midnight (in Japan) after the previous business day to the midnight
after the day itself, and each bucket is one COUNT over an index range, all of them in one UNION ALL: counting
index entries between two bounds is much cheaper than working out the Japanese date of every row and grouping by
it (about a third of the time for both series over bench/queue_scale.py's 1,000,000 applications).

The percentiles are PostgreSQL's percentile_cont: the value at that fraction of the durations in order,
interpolated between the two nearest. SQLite (`make run`) has no such function; there the one or two durations
each percentile needs are fetched by their position in that order (ROW_NUMBER) and interpolated with the same
floating-point steps as PostgreSQL's, so that both give the same answer for the same data.
"""

import datetime
import itertools
import math
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import RowNumber
from django.shortcuts import render
from django.utils import dateformat
from django.views.decorators.http import require_safe

from applications import business_calendar, clock
from applications.models import DECIDED_STATUSES, OPEN_STATUSES, Application, ApplicationStatus

from .permissions import PERM_REVIEW, staff_required

WINDOW_BUSINESS_DAYS = 20
MEDIAN, P90 = 0.5, 0.9
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400


# --- the reads ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    """One business day of the window: received and decided that day (and on the closed days just before it)."""

    day: datetime.date
    received: int
    decided: int


@dataclass(frozen=True)
class DashboardFigures:
    today: datetime.date
    days: list[DayFigures]  # oldest first
    since: (
        datetime.date
    )  # the first calendar day counted (closed days before the first business day included)
    median_seconds: float | None  # None when nothing was decided in the window
    p90_seconds: float | None
    open_submitted: int
    open_under_review: int
    overdue: int

    @property
    def until(self) -> datetime.date:
        """The last business day counted: today, or the business day before it when today is a closed day (what
        arrives on it counts on the next business day, not yet in the window)."""
        return self.days[-1].day

    @property
    def received(self) -> int:
        return sum(day.received for day in self.days)

    @property
    def decided(self) -> int:
        return sum(day.decided for day in self.days)

    @property
    def open(self) -> int:
        return self.open_submitted + self.open_under_review

    @property
    def median_hours(self) -> float | None:
        return None if self.median_seconds is None else self.median_seconds / SECONDS_PER_HOUR

    @property
    def p90_hours(self) -> float | None:
        return None if self.p90_seconds is None else self.p90_seconds / SECONDS_PER_HOUR


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)` over a number."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        fraction = float(fraction)  # written into the SQL: a float between 0 and 1, nothing else
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must lie between 0 and 1")
        super().__init__(expression, fraction=fraction, **extra)


class EpochSeconds(Func):
    """An interval in seconds, as PostgreSQL's double precision (see `interval_seconds`)."""

    template = "date_part('epoch', %(expressions)s)"
    output_field = FloatField()


def interval_seconds(duration: datetime.timedelta) -> float:
    """`duration` in seconds exactly as PostgreSQL's date_part('epoch', interval) computes it in double precision:
    the time part in seconds, plus 86,400 for each day. The difference of two instants is an interval of whole days
    and a time part under a day, like a timedelta's days and seconds, so both sides add and round alike."""
    time_part = (duration.seconds * 1_000_000 + duration.microseconds) / 1e6
    return time_part + float(SECONDS_PER_DAY) * duration.days


def _decision_time():
    """From 受付 to the decision."""
    return ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=clock.JST)


def _first_counted_day(first_business_day: datetime.date) -> datetime.date:
    """The day after the business day before `first_business_day`: the closed days in between count on it."""
    day = first_business_day
    while not business_calendar.is_business_day(day - datetime.timedelta(days=1)):
        day -= datetime.timedelta(days=1)
    return day


def _counts_per_bucket(series: dict[str, tuple[QuerySet, str]], bounds: list[datetime.datetime]) -> dict:
    """{(name, i): how many rows of the named queryset have their instant field in [bounds[i], bounds[i + 1])},
    every count of every series in one query (each a COUNT over an index range, no GROUP BY: an empty range
    counts 0)."""
    unordered = {name: (queryset.order_by(), field) for name, (queryset, field) in series.items()}
    parts = [
        queryset.filter(**{f"{field}__gte": low, f"{field}__lt": high})
        .values(series=Value(name), bucket=Value(index, output_field=IntegerField()))
        .annotate(count=Count("*"))
        for name, (queryset, field) in unordered.items()
        for index, (low, high) in enumerate(itertools.pairwise(bounds))
    ]
    union = parts[0].union(*parts[1:], all=True)
    return {(row["series"], row["bucket"]): row["count"] for row in union}


def _interpolation(count: int, fraction: float) -> tuple[int, int, float]:
    """percentile_cont's recipe: the 1-based positions of the two values around `fraction` of `count` ordered
    values, and how far between them the answer lies."""
    position = fraction * (count - 1)
    lower = math.floor(position)
    return lower + 1, math.ceil(position) + 1, position - lower


def decision_time_percentiles_by_position(
    decided: QuerySet, *, count: int, fractions
) -> dict[float, float | None]:
    """The percentiles (in seconds) of the decision time over `decided` (`count` rows), on any database: the
    durations at the positions percentile_cont would read, fetched in one query, interpolated as it does
    (lower + fraction × (upper − lower))."""
    if not count:
        return dict.fromkeys(fractions)
    spots = {fraction: _interpolation(count, fraction) for fraction in fractions}
    wanted = sorted({position for lower, upper, _weight in spots.values() for position in (lower, upper)})
    seconds = {
        position: interval_seconds(duration)
        for position, duration in decided.annotate(
            duration=_decision_time(),
            position=Window(RowNumber(), order_by=_decision_time().asc()),
        )
        .filter(position__in=wanted)
        .order_by()
        .values_list("position", "duration")
    }
    result = {}
    for fraction, (lower, upper, weight) in spots.items():
        low = seconds[lower]
        result[fraction] = low if upper == lower else low + weight * (seconds[upper] - low)
    return result


def decision_time_percentiles_in_postgres(decided: QuerySet, *, fractions) -> dict[float, float | None]:
    """The same with percentile_cont, in one aggregate query (PostgreSQL only)."""
    seconds = EpochSeconds(_decision_time())
    figures = decided.aggregate(
        **{
            f"p{index}": PercentileCont(seconds, fraction=fraction)
            for index, fraction in enumerate(fractions)
        }
    )
    return {fraction: figures[f"p{index}"] for index, fraction in enumerate(fractions)}


def dashboard_figures(*, today: datetime.date) -> DashboardFigures:
    """業務状況 on `today` (SPEC §8): the last WINDOW_BUSINESS_DAYS business days up to `today`, the decision
    times of the applications decided in them, and the applications open (受付, 内容確認中) and overdue (open
    after their 回答予定日, as Application.is_overdue_on) now. Three queries, whatever the data."""
    business_days = business_calendar.business_days_up_to(today, WINDOW_BUSINESS_DAYS)
    since = _first_counted_day(business_days[0])
    # Bucket i runs from bounds[i] to bounds[i + 1]: to the midnight after business day i, from the one after the
    # business day before it.
    bounds = [_midnight(since)] + [_midnight(day + datetime.timedelta(days=1)) for day in business_days]
    decided = Application.objects.filter(status__in=DECIDED_STATUSES)
    counts = _counts_per_bucket(
        {"received": (Application.objects.all(), "submitted_at"), "decided": (decided, "decided_at")}, bounds
    )
    days = [
        DayFigures(
            day=day, received=counts.get(("received", index), 0), decided=counts.get(("decided", index), 0)
        )
        for index, day in enumerate(business_days)
    ]
    decided_in_window = decided.filter(decided_at__gte=bounds[0], decided_at__lt=bounds[-1])
    fractions = (MEDIAN, P90)
    if connection.vendor == "postgresql":
        percentiles = decision_time_percentiles_in_postgres(decided_in_window, fractions=fractions)
    else:
        percentiles = decision_time_percentiles_by_position(
            decided_in_window, count=sum(day.decided for day in days), fractions=fractions
        )
    # COUNT(status), a column of the partial index application_open_counts, so that the count reads the
    # index alone (COUNT(id) would visit every open row).
    open_now = Application.objects.filter(status__in=OPEN_STATUSES).aggregate(
        submitted=Count("status", filter=Q(status=ApplicationStatus.SUBMITTED)),
        under_review=Count("status", filter=Q(status=ApplicationStatus.UNDER_REVIEW)),
        overdue=Count("status", filter=Q(answer_due_on__lt=today)),
    )
    return DashboardFigures(
        today=today,
        days=days,
        since=since,
        median_seconds=percentiles[MEDIAN],
        p90_seconds=percentiles[P90],
        open_submitted=open_now["submitted"],
        open_under_review=open_now["under_review"],
        overdue=open_now["overdue"],
    )


# --- the chart: where each bar goes in the SVG -------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 800, 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 792, 12, 224


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class ChartDay:
    day: datetime.date
    label: str  # 11/16
    label_x: float
    received: Bar
    decided: Bar


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    label_y: int
    days: list[ChartDay]
    ticks: list[Tick]


def _tick_step(highest: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50…) giving at most four steps up to `highest`."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            if highest <= 4 * base * magnitude:
                return base * magnitude
        magnitude *= 10


def dashboard_chart(days: list[DayFigures]) -> Chart:
    """The bars of `days` (received and decided side by side, one group a day) and the value axis."""
    highest = max([day.received for day in days] + [day.decided for day in days] + [1])
    step = _tick_step(highest)
    top = math.ceil(highest / step) * step
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(days), 1)
    bar_width = round(slot * 0.36, 1)

    def y_of(value: int) -> float:
        return round(PLOT_BOTTOM - plot_height * value / top, 1)

    def bar(x: float, value: int) -> Bar:
        y = y_of(value)
        return Bar(x=round(x, 1), y=y, width=bar_width, height=round(PLOT_BOTTOM - y, 1), value=value)

    chart_days = []
    for index, day in enumerate(days):
        left = PLOT_LEFT + index * slot
        chart_days.append(
            ChartDay(
                day=day.day,
                label=dateformat.format(day.day, "n/j"),
                label_x=round(left + slot / 2, 1),
                received=bar(left + slot * 0.12, day.received),
                decided=bar(left + slot * 0.52, day.decided),
            )
        )
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        plot_bottom=PLOT_BOTTOM,
        label_y=PLOT_BOTTOM + 18,
        days=chart_days,
        ticks=[Tick(y=y_of(value), value=value) for value in range(0, top + 1, step)],
    )


# --- the view ----------------------------------------------------------------------------------------------------


@require_safe
@staff_required(PERM_REVIEW)
def dashboard(request):
    """業務状況."""
    figures = dashboard_figures(today=clock.today())
    return render(
        request, "reviews/dashboard.html", {"figures": figures, "chart": dashboard_chart(figures.days)}
    )
