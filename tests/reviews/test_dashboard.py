"""業務状況 (SPEC §8, reviews/dashboard.py): received and decided per business day of the last 20, in Japan-time
days, closed days counted on the next business day; the median and 90th percentile of the time from 受付 to the
decision, the same on PostgreSQL (percentile_cont) and SQLite; open and overdue now; a fixed number of queries;
the page (an SVG chart with a table of the same figures) for staff with the review permission only.

The clock stands at FROZEN_AT, Monday 2026-11-16 10:00 in Japan. The 20 business days up to it run from Monday
10/19 to 11/16 (11/3 文化の日 is not one); the weekend before 10/19 belongs to it, so the window starts on
Saturday 10/17 at midnight in Japan.
"""

import datetime
import random
import statistics

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import business_calendar, clock
from applications.models import Application, ApplicationStatus
from reviews import dashboard
from reviews import services as review_services
from tests.factories import DraftFactory, otp_login, staff_in, staff_with_device, submitted_application
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

D = datetime.date
TODAY = D(2026, 11, 16)
FIRST_DAY = D(2026, 10, 19)


def jst(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.JST)


def filed(
    submitted_at: datetime.datetime,
    *,
    status: str = ApplicationStatus.SUBMITTED,
    decided_after: datetime.timedelta | None = None,
) -> Application:
    """An application received at `submitted_at` (answer due the next business day) and, with `decided_after`,
    decided that long after: stored as the services would leave it."""
    application = submitted_application()
    Application.objects.filter(pk=application.pk).update(
        status=status,
        submitted_at=submitted_at,
        answer_due_on=business_calendar.next_business_day(clock.local_date(submitted_at)),
        decided_at=submitted_at + decided_after if decided_after is not None else None,
    )
    return application


def decided(submitted_at, hours: float, *, status=ApplicationStatus.APPROVED) -> Application:
    return filed(submitted_at, status=status, decided_after=datetime.timedelta(hours=hours))


def figures() -> dashboard.DashboardFigures:
    return dashboard.dashboard_figures(today=clock.today())


def per_day(result, field: str) -> dict:
    return {day.day: getattr(day, field) for day in result.days if getattr(day, field)}


# --- the days ------------------------------------------------------------------------------------------------


def test_the_window_is_the_last_20_business_days_oldest_first():
    result = figures()
    days = [day.day for day in result.days]
    assert len(days) == dashboard.WINDOW_BUSINESS_DAYS == 20
    assert days[0] == FIRST_DAY and days[-1] == TODAY
    assert days == sorted(days)
    assert result.since == D(2026, 10, 17)


def test_non_business_days_are_not_buckets():
    days = {day.day for day in figures().days}
    assert D(2026, 11, 3) not in days  # 文化の日
    assert D(2026, 11, 14) not in days and D(2026, 11, 15) not in days  # the weekend
    assert all(business_calendar.is_business_day(day) for day in days)


def test_on_a_closed_day_the_window_ends_on_the_business_day_before(frozen_clock):
    filed(jst(D(2026, 11, 13), 12))
    frozen_clock.move_to(jst(D(2026, 11, 14), 10))  # Saturday
    filed(jst(D(2026, 11, 14), 9))  # counts on Monday, which is not in the window yet
    result = figures()
    assert result.until == D(2026, 11, 13) == result.days[-1].day
    assert result.days[0].day == D(2026, 10, 16)
    assert per_day(result, "received") == {D(2026, 11, 13): 1}


def test_received_are_counted_on_their_date_in_japan():
    decided(jst(D(2026, 11, 10), 0, 30), 2)  # Tuesday 00:30 in Japan is still Monday in UTC
    filed(jst(D(2026, 11, 13), 23, 30))  # Friday 23:30 in Japan: Friday, not the weekend
    filed(jst(D(2026, 11, 16), 9, 0))
    filed(jst(D(2026, 11, 16), 9, 30))
    assert per_day(figures(), "received") == {D(2026, 11, 10): 1, D(2026, 11, 13): 1, TODAY: 2}


def test_what_arrives_on_a_closed_day_counts_on_the_next_business_day():
    filed(jst(D(2026, 11, 3), 11))  # 文化の日 → Wednesday 11/4
    filed(jst(D(2026, 11, 14), 15))  # Saturday → Monday 11/16
    filed(jst(D(2026, 11, 15), 20))  # Sunday → Monday 11/16
    filed(jst(D(2026, 10, 17), 0, 0))  # the Saturday before the first day: counted on it
    assert per_day(figures(), "received") == {D(2026, 11, 4): 1, TODAY: 2, FIRST_DAY: 1}


def test_only_the_window_is_counted_and_drafts_never():
    filed(jst(D(2026, 10, 16), 23, 59))  # the Friday before the window
    decided(jst(D(2026, 10, 15), 10), 24)  # received and decided before the window
    DraftFactory()
    result = figures()
    assert result.received == 0
    assert result.decided == 0
    assert result.median_seconds is None and result.p90_seconds is None


def test_decided_are_approved_and_rejected_on_the_day_of_the_decision():
    decided(jst(D(2026, 11, 12), 16), 20)  # received Thursday, approved Friday 12:00
    decided(jst(D(2026, 11, 13), 17), 1, status=ApplicationStatus.REJECTED)  # rejected Friday 18:00
    decided(jst(D(2026, 11, 13), 15), 60)  # approved Monday 03:00 (received Friday)
    decided(
        jst(D(2026, 10, 16), 16), 48
    )  # received before the window, decided on Sunday 10/18 → Monday 10/19
    filed(jst(D(2026, 11, 13), 10), status=ApplicationStatus.WITHDRAWN)  # 取下げ: received, never decided
    filed(jst(D(2026, 11, 13), 11), status=ApplicationStatus.UNDER_REVIEW)
    result = figures()
    assert per_day(result, "decided") == {FIRST_DAY: 1, D(2026, 11, 13): 2, TODAY: 1}
    assert per_day(result, "received") == {D(2026, 11, 12): 1, D(2026, 11, 13): 4}
    assert (result.received, result.decided) == (5, 4)


def test_decided_before_the_window_is_not_counted_even_when_received_in_it():
    decided(jst(D(2026, 10, 16), 9), 3)  # decided Friday 10/16 12:00, the day before the window
    assert figures().decided == 0


# --- how long a decision takes ---------------------------------------------------------------------------------


def test_median_and_90th_percentile_of_the_time_from_reception_to_decision():
    # 1, 2, 3, 4 and 10 hours: the median is the middle one; the 90th percentile lies 0.6 of the way from the
    # 4th to the 5th (0.9 × 4 = 3.6), 4 + 0.6 × 6 = 7.6 hours (percentile_cont's interpolation).
    for index, hours in enumerate((3, 10, 1, 4, 2)):
        decided(
            jst(D(2026, 11, 9 + index), 9), hours, status=[ApplicationStatus.APPROVED, "rejected"][index % 2]
        )
    filed(jst(D(2026, 11, 12), 9))  # open: no decision yet, no duration
    result = figures()
    assert result.median_hours == pytest.approx(3.0)
    assert result.p90_hours == pytest.approx(7.6)


def test_the_median_of_an_even_number_lies_halfway():
    for index, hours in enumerate((2, 5, 1, 30)):
        decided(jst(D(2026, 11, 2 + index), 9), hours)
    result = figures()
    assert result.median_hours == pytest.approx(3.5)
    assert result.p90_hours == pytest.approx(5 + 0.7 * 25)  # 0.9 × 3 = 2.7


def test_one_decision_is_its_own_median_and_percentile():
    decided(jst(D(2026, 11, 2), 9), 26.25)
    result = figures()
    assert result.median_seconds == result.p90_seconds == 26.25 * 3600


def test_the_services_stamp_reception_and_decision(frozen_clock, reviewer, approver):
    frozen_clock.move_to(jst(D(2026, 11, 9), 10))
    application = review_services.application_take(application=submitted_application(), actor=reviewer)
    frozen_clock.move_to(jst(D(2026, 11, 10), 13, 30))
    review_services.application_approve(application=application, actor=approver)
    frozen_clock.move_to(jst(TODAY, 10))
    result = figures()
    assert per_day(result, "received") == {D(2026, 11, 9): 1}
    assert per_day(result, "decided") == {D(2026, 11, 10): 1}
    assert result.median_hours == pytest.approx(27.5)


def durations_of_many() -> list[datetime.timedelta]:
    """Awkward durations: microseconds, ties, seconds to days."""
    chance = random.Random(20261116)  # fixed seed: the same awkward durations every run
    durations = [datetime.timedelta(microseconds=chance.randrange(1, 5 * 86_400 * 10**6)) for _ in range(40)]
    return [*durations, durations[3], durations[3], datetime.timedelta(seconds=1)]


def test_the_percentiles_by_position_are_the_textbook_ones():
    """On any database: the positional method against Python's own (inclusive) quantiles."""
    durations = durations_of_many()
    for index, duration in enumerate(durations):
        filed(
            jst(D(2026, 10, 19), 9) + datetime.timedelta(minutes=index),
            status="approved",
            decided_after=duration,
        )
    fractions = (0.0, 0.25, 0.5, 0.9, 1.0)
    found = dashboard.decision_time_percentiles_by_position(
        Application.objects.filter(status="approved"), count=len(durations), fractions=fractions
    )
    seconds = [duration.total_seconds() for duration in durations]
    deciles = statistics.quantiles(seconds, n=10, method="inclusive")
    quartiles = statistics.quantiles(seconds, n=4, method="inclusive")
    assert found[0.0] == min(seconds) == 1.0
    assert found[1.0] == pytest.approx(max(seconds), rel=1e-12)
    assert found[0.25] == pytest.approx(quartiles[0], rel=1e-12)
    assert found[0.5] == pytest.approx(statistics.median(seconds), rel=1e-12)
    assert found[0.9] == pytest.approx(deciles[8], rel=1e-12)


@pytest.mark.usefixtures("require_postgres")
def test_percentile_cont_and_the_positional_method_give_the_same_answer():
    """What SQLite computes (by position) is exactly what PostgreSQL's percentile_cont answers, on the same rows."""
    durations = durations_of_many()
    for index, duration in enumerate(durations):
        filed(
            jst(D(2026, 10, 19), 9) + datetime.timedelta(minutes=index),
            status="approved",
            decided_after=duration,
        )
    rows = Application.objects.filter(status="approved")
    fractions = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
    in_postgres = dashboard.decision_time_percentiles_in_postgres(rows, fractions=fractions)
    by_position = dashboard.decision_time_percentiles_by_position(
        rows, count=len(durations), fractions=fractions
    )
    assert in_postgres == by_position
    assert dashboard.decision_time_percentiles_in_postgres(rows.none(), fractions=fractions) == dict.fromkeys(
        fractions
    )


def test_a_fraction_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        dashboard.PercentileCont("submitted_at", fraction=1.5)


# --- open and overdue now ------------------------------------------------------------------------------------


def test_open_and_overdue_now():
    filed(jst(TODAY, 9))  # due Tuesday: not overdue
    filed(jst(D(2026, 11, 13), 9))  # due Monday (today): not overdue yet
    filed(jst(D(2026, 11, 12), 9))  # due Friday: overdue
    filed(jst(D(2026, 11, 11), 9), status=ApplicationStatus.UNDER_REVIEW)  # due Thursday: overdue
    filed(jst(D(2026, 9, 1), 9), status=ApplicationStatus.UNDER_REVIEW)  # long before the window: still open
    decided(jst(D(2026, 11, 2), 9), 100)  # decided: neither
    filed(jst(D(2026, 11, 2), 9), status=ApplicationStatus.WITHDRAWN)  # 取下げ: neither
    result = figures()
    assert (result.open_submitted, result.open_under_review, result.open) == (3, 2, 5)
    assert result.overdue == 3
    overdue_by_the_model = [
        application for application in Application.objects.all() if application.is_overdue_on(TODAY)
    ]
    assert result.overdue == len(overdue_by_the_model)


# --- queries -------------------------------------------------------------------------------------------------


def grow(n: int) -> None:
    """n applications spread over the window: every third one open, the others (the first among them) decided a
    varying few hours later."""
    for index in range(n):
        submitted_at = jst(FIRST_DAY, 9) + datetime.timedelta(hours=13 * index)
        if index % 3 == 1:
            filed(submitted_at)
        else:
            decided(submitted_at, 1 + index % 7, status=["approved", "rejected"][index % 2])


@pytest.mark.parametrize("rows", [1, 50])
def test_the_figures_take_a_fixed_number_of_queries(rows, django_assert_max_num_queries):
    grow(rows)
    with django_assert_max_num_queries(3):
        result = figures()
    assert result.received == rows


def test_the_page_makes_as_many_queries_with_50_applications_as_with_1(staff_client):
    grow(1)
    url = reverse("reviews:dashboard")
    staff_client.get(url)  # warm-up: session, permissions
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200
    grow(50)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert len(large) == len(small) <= 8, "\n".join(query["sql"] for query in large.captured_queries)


# --- the chart -----------------------------------------------------------------------------------------------


def day_figures(*counts) -> list[dashboard.DayFigures]:
    return [
        dashboard.DayFigures(day=FIRST_DAY + datetime.timedelta(days=index), received=received, decided=done)
        for index, (received, done) in enumerate(counts)
    ]


def test_the_tallest_bar_reaches_the_top_tick_and_an_empty_day_has_no_height():
    chart = dashboard.dashboard_chart(day_figures((8, 3), (0, 0), (2, 8)))
    assert [tick.value for tick in chart.ticks] == [0, 2, 4, 6, 8]
    top = chart.ticks[-1].y
    assert chart.days[0].received.y == top == chart.days[2].decided.y
    assert chart.days[1].received.height == chart.days[1].decided.height == 0
    assert chart.days[0].received.y + chart.days[0].received.height == chart.plot_bottom
    assert chart.days[0].label == "10/19"


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (41, [0, 20, 40, 60]),
        (950, [0, 500, 1000]),
    ],
)
def test_the_value_axis_has_round_steps(highest, ticks):
    chart = dashboard.dashboard_chart(day_figures((highest, 0)))
    assert [tick.value for tick in chart.ticks] == ticks


def test_the_bars_stay_inside_the_plot_and_do_not_overlap():
    chart = dashboard.dashboard_chart(figures().days)
    edges = []
    for day in chart.days:
        edges += [
            (day.received.x, day.received.x + day.received.width),
            (day.decided.x, day.decided.x + day.decided.width),
        ]
    assert edges[0][0] >= chart.plot_left and edges[-1][1] <= chart.plot_right
    assert all(left[1] < right[0] for left, right in zip(edges, edges[1:], strict=False))


# --- the page ------------------------------------------------------------------------------------------------


def test_the_page_shows_the_figures(staff_client):
    for index, hours in enumerate((3, 10, 1, 4, 2)):
        decided(jst(D(2026, 11, 9 + index), 9), hours)
    filed(jst(D(2026, 11, 12), 9))
    filed(jst(TODAY, 9))
    response = staff_client.get(reverse("reviews:dashboard"))
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "staff-dashboard"
    assert page.root.find_all("h1")[0].text == "業務状況"
    assert "業務状況 | NSS" in page.root.find_all("title")[0].text

    def figure(name):
        return page.root.find_all(**{"data-figure": name})[0].text

    assert figure("open") == "2件"
    assert figure("overdue") == "1件"
    assert figure("median") == "3.0時間"
    assert figure("p90") == "7.6時間"

    table = page.root.by_id("dashboard-days")
    rows = {row.attrs["data-day"]: row for row in table.find_all("tr") if "data-day" in row.attrs}
    assert len(rows) == 20
    assert rows["2026-11-12"].find_all("td", **{"data-received": ""})[0].text == "2"
    assert rows["2026-11-12"].find_all("td", **{"data-decided": ""})[0].text == "1"
    assert rows["2026-11-16"].find_all("td", **{"data-received": ""})[0].text == "1"


def test_the_chart_is_an_accessible_svg_without_script_or_inline_style(staff_client):
    decided(jst(D(2026, 11, 9), 9), 2)
    response = staff_client.get(reverse("reviews:dashboard"))
    page = Page(response)
    [svg] = page.root.find_all("svg")
    assert svg.attrs["role"] == "img"
    title_id, desc_id = svg.attrs["aria-labelledby"].split()
    assert svg.by_id(title_id).tag == "title" and svg.by_id(title_id).text
    assert svg.by_id(desc_id).tag == "desc" and "合計1件" in svg.by_id(desc_id).text
    assert len(svg.find_all("g")) == 20
    html = response.content.decode()
    assert "<script" not in html
    assert " style=" not in html


def test_the_staff_menu_links_the_dashboard(staff_client):
    page = Page(staff_client.get(reverse("reviews:queue")))
    [nav] = page.root.find_all("nav", **{"aria-label": "スタッフメニュー"})
    assert [a.attrs["href"] for a in nav.find_all("a") if a.text == "業務状況"] == [
        reverse("reviews:dashboard")
    ]


def test_an_approver_sees_the_dashboard(approver_client):
    assert approver_client.get(reverse("reviews:dashboard")).status_code == 200


def test_a_customer_is_refused(customer_client):
    assert customer_client.get(reverse("reviews:dashboard")).status_code == 403


def test_staff_without_the_review_permission_are_refused(client):
    otp_login(client, staff_with_device(None))
    assert client.get(reverse("reviews:dashboard")).status_code == 403


def test_anonymous_goes_to_the_staff_login(client):
    response = client.get(reverse("reviews:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('reviews:login')}?next=%2Fstaff%2Fdashboard%2F"


def test_staff_without_the_second_factor_go_to_the_staff_login(client):
    client.force_login(staff_in("reviewer"))
    response = client.get(reverse("reviews:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reviews:login"))
