"""The queue for a full day's work (SPEC §8): counts that are filters, 申込の種類 and 利用開始希望日, the sorts,
自分の担当, previous and next pages with the state in the URL, search by office name, and CSV出力. 利用開始希望日
is the date the customer asked for whatever the kind: a removal's 利用終了希望日 sorts among the start dates, and
an application with no desired date comes last (first when the latest come first)."""

import csv
import datetime
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from applications import clock
from applications.models import NO_DESIRED_DATE, Application
from reviews import selectors, services
from tests.factories import (
    ContractFactory,
    NaccsUserIdFactory,
    otp_login,
    staff_in,
    submitted_application,
    submitted_removal,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

D = datetime.date


def rows_of(response) -> list[str]:
    return [
        row.attrs["data-reception-number"]
        for row in Page(response).root.find_all("tr")
        if "data-reception-number" in row.attrs
    ]


def count_of(page: Page, name: str) -> tuple[int, str]:
    [link] = [a for a in page.root.find_all("a") if a.attrs.get("data-count") == name]
    return int(link.find_all("span")[0].text), link.attrs["href"]


@pytest.fixture
def day_of_work(frozen_clock, reviewer, client):
    """Filed on Monday: two still 受付, one taken by the reviewer, one by a colleague, one decided; then it is
    Wednesday, so Monday's are past their answer-due day (Tuesday); one more filed on Wednesday."""
    colleague = staff_in("reviewer", username="colleague")
    waiting = [submitted_application(desired_start_date=D(2026, 11, 25)) for _ in range(2)]
    mine = submitted_application(desired_start_date=D(2026, 11, 19))
    services.application_take(application=mine, actor=reviewer)
    theirs = submitted_application(desired_start_date=D(2026, 11, 20))
    services.application_take(application=theirs, actor=colleague)
    decided = submitted_application()
    services.application_take(application=decided, actor=colleague)
    services.application_reject(application=decided, actor=colleague, reason="重複")
    frozen_clock.move_to(datetime.datetime(2026, 11, 18, 10, 0, tzinfo=clock.JST))
    fresh = submitted_application(desired_start_date=D(2026, 11, 24))
    otp_login(client, reviewer)  # a Wednesday session: Monday's has long timed out
    return {"waiting": waiting, "mine": mine, "theirs": theirs, "decided": decided, "fresh": fresh}


def test_the_counts_are_right_and_each_is_the_filter_it_names(staff_client, day_of_work):
    page = Page(staff_client.get(reverse("reviews:queue")))
    submitted, submitted_href = count_of(page, "submitted")
    under_review, under_review_href = count_of(page, "under_review")
    overdue, overdue_href = count_of(page, "overdue")
    mine, mine_href = count_of(page, "mine")
    assert (submitted, under_review, overdue, mine) == (3, 2, 4, 1)
    work = day_of_work
    as_numbers = lambda apps: sorted(a.reception_number for a in apps)  # noqa: E731
    assert sorted(rows_of(staff_client.get(reverse("reviews:queue") + submitted_href))) == as_numbers(
        [*work["waiting"], work["fresh"]]
    )
    assert sorted(rows_of(staff_client.get(reverse("reviews:queue") + under_review_href))) == as_numbers(
        [work["mine"], work["theirs"]]
    )
    assert sorted(rows_of(staff_client.get(reverse("reviews:queue") + overdue_href))) == as_numbers(
        [*work["waiting"], work["mine"], work["theirs"]]
    )
    mine_page = staff_client.get(reverse("reviews:queue") + mine_href)
    assert rows_of(mine_page) == [work["mine"].reception_number]
    [current] = [a for a in Page(mine_page).root.find_all("a") if a.attrs.get("aria-current") == "page"]
    assert current.attrs["data-count"] == "mine"


def test_the_columns_add_the_kind_and_the_desired_start_date(staff_client, day_of_work):
    page = Page(staff_client.get(reverse("reviews:queue")))
    headers = [th.text for th in page.root.find_all("th")]
    assert "申込の種類" in headers and "利用開始希望日" in headers
    [row] = [
        r
        for r in page.root.find_all("tr")
        if r.attrs.get("data-reception-number") == day_of_work["mine"].reception_number
    ]
    assert "通関士IDの追加" in row.text
    assert "2026/11/19" in row.text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("start", ["mine", "theirs", "fresh", "waiting0", "waiting1"]),
        ("-start", ["waiting1", "waiting0", "fresh", "theirs", "mine"]),
        ("submitted", ["waiting0", "waiting1", "mine", "theirs", "fresh"]),
        ("-submitted", ["fresh", "theirs", "mine", "waiting1", "waiting0"]),
    ],
)
def test_the_sorts(staff_client, day_of_work, sort, expected):
    names = {
        "waiting0": day_of_work["waiting"][0],
        "waiting1": day_of_work["waiting"][1],
        **{key: day_of_work[key] for key in ("mine", "theirs", "fresh")},
    }
    response = staff_client.get(reverse("reviews:queue"), {"sort": sort})
    assert rows_of(response) == [names[name].reception_number for name in expected]


@pytest.mark.parametrize("sort", ["submitted", "-submitted", "start", "-start"])
def test_keyset_pages_forwards_and_back_give_the_same_rows(day_of_work, sort):
    today = clock.today()
    everything = selectors.application_queue(status="", sort=sort, today=today, limit=50).rows
    assert len(everything) == 6
    first = selectors.application_queue(status="", sort=sort, today=today, limit=4)
    assert first.previous_cursor is None and first.next_cursor
    second = selectors.application_queue(status="", sort=sort, after=first.next_cursor, today=today, limit=4)
    assert second.next_cursor is None and second.previous_cursor
    assert [a.pk for a in first.rows + second.rows] == [a.pk for a in everything]
    back = selectors.application_queue(
        status="", sort=sort, before=second.previous_cursor, today=today, limit=4
    )
    assert [a.pk for a in back.rows] == [a.pk for a in first.rows]
    assert back.previous_cursor is None and back.next_cursor


def test_a_cursor_of_another_sort_starts_from_the_first_page(day_of_work):
    today = clock.today()
    first = selectors.application_queue(status="", sort="start", today=today, limit=2)
    other = selectors.application_queue(
        status="", sort="submitted", after=first.next_cursor, today=today, limit=2
    )
    assert other.previous_cursor is None


def test_the_page_links_keep_the_filters_in_the_url(staff_client, day_of_work):
    first = selectors.application_queue(status="", sort="start", today=clock.today(), limit=1)
    response = staff_client.get(
        reverse("reviews:queue"), {"status": "", "sort": "start", "after": first.next_cursor}
    )
    page = Page(response)
    [previous] = [a for a in page.root.find_all("a") if a.attrs.get("rel") == "prev"]
    query = parse_qs(urlsplit(previous.attrs["href"]).query, keep_blank_values=True)
    assert (
        query["sort"] == ["start"] and query["status"] == [""] and "before" in query and "after" not in query
    )
    back = staff_client.get(reverse("reviews:queue") + previous.attrs["href"])
    # by 利用開始希望日 the rejected one (11/18) is the only row before the cursor
    assert rows_of(back) == [day_of_work["decided"].reception_number]
    # the form shows the state it was given: a bookmark is a saved view
    assert Page(back).value_of("sort") == "start"


def test_search_finds_an_office_by_its_name(staff_client):
    office = ContractFactory(company_name="北海通関株式会社", office_name="函館営業所")
    ours = submitted_application(contract=office)
    submitted_application()
    assert rows_of(staff_client.get(reverse("reviews:queue"), {"q": "函館"})) == [ours.reception_number]


# --- CSV出力 ------------------------------------------------------------------------------------------------


def read_csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv_is_the_filtered_queue_with_a_bom_for_excel(staff_client, reviewer, day_of_work):
    response = staff_client.get(reverse("reviews:queue-export"), {"status": "under_review", "sort": "start"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="nss-queue-')
    raw, rows = read_csv(response)
    assert raw.startswith("\ufeff".encode())
    header, *body = rows
    assert header[:3] == ["申込受付番号", "申込の種類", "状態"]
    assert [row[0] for row in body] == [
        day_of_work["mine"].reception_number,
        day_of_work["theirs"].reception_number,
    ]
    mine = dict(zip(header, body[0], strict=True))
    assert mine["担当者"] == reviewer.username
    assert mine["希望日"] == "2026/11/19"
    assert mine["回答予定日超過"] == "該当"


def test_the_csv_cannot_carry_a_formula(staff_client):
    hostile = ContractFactory(company_name='=HYPERLINK("http://evil.example","開く")', office_name="+SUM(A1)")
    submitted_application(contract=hostile)
    _raw, rows = read_csv(staff_client.get(reverse("reviews:queue-export")))
    header, row = rows
    record = dict(zip(header, row, strict=True))
    assert record["会社名"] == "'" + '=HYPERLINK("http://evil.example","開く")'
    assert record["事業所名"] == "'+SUM(A1)"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1", "＝1+1"])
def test_every_formula_start_is_neutralised(value):
    from reviews.exports import cell

    assert cell(value).startswith("'")
    assert cell("株式会社=") == "株式会社="


def test_the_export_reads_every_page_in_batches(day_of_work):
    rows = list(selectors.queue_export_rows(status="", today=clock.today(), batch=2))
    everything = selectors.application_queue(status="", today=clock.today()).rows
    assert [a.pk for a in rows] == [a.pk for a in everything]


def test_the_csv_of_a_mistyped_reception_number_goes_back_with_the_message(staff_client, day_of_work):
    number = day_of_work["mine"].reception_number
    wrong = number[:7] + ("A" if number[7] != "A" else "B")
    response = staff_client.get(reverse("reviews:queue-export"), {"q": wrong}, follow=True)
    assert Page(response).screen == "staff-queue"
    assert f"チェック文字「{wrong[7]}」が違います" in Page(response).page_errors()


# --- 利用開始希望日 whatever the kind: additions, removals and no desired date mixed ----------------------------


@pytest.fixture
def mixed_kinds(day_of_work):
    """The day's work, and on Wednesday three removals: one whose 利用終了希望日 ties with an addition's
    利用開始希望日 (11/20, filed later), one later than every other date (12/1), and one with no desired date at
    all (as a kind that asks for none: both dates empty)."""
    office = ContractFactory()
    targets = [
        NaccsUserIdFactory(contract=office, identifier=identifier) for identifier in ("A0A", "B0B", "C0C")
    ]
    tie = submitted_removal(contract=office, targets=targets[:1], desired_end_date=D(2026, 11, 20))
    late = submitted_removal(contract=office, targets=targets[1:2], desired_end_date=D(2026, 12, 1))
    undated = submitted_removal(contract=office, targets=targets[2:])
    Application.objects.filter(pk=undated.pk).update(desired_end_date=None)
    undated.refresh_from_db()
    assert undated.desired_start_date is None and undated.desired_end_date is None
    return {**day_of_work, "tie": tie, "late": late, "undated": undated}


# Everything filed, by the date asked for then by id: decided 11/18, mine 11/19, theirs 11/20, the tied removal
# 11/20 (filed after theirs), fresh 11/24, the two waiting 11/25, the late removal 12/1, and the undated one.
BY_DESIRED_DATE = ["decided", "mine", "theirs", "tie", "fresh", "waiting0", "waiting1", "late", "undated"]


def names_of(work) -> dict:
    return {
        "waiting0": work["waiting"][0],
        "waiting1": work["waiting"][1],
        **{key: value for key, value in work.items() if key != "waiting"},
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("start", BY_DESIRED_DATE), ("-start", BY_DESIRED_DATE[::-1])],
)
def test_removals_sort_by_their_desired_end_date_and_no_date_comes_last(mixed_kinds, sort, expected):
    names = names_of(mixed_kinds)
    rows = selectors.application_queue(status="", sort=sort, today=clock.today()).rows
    assert [row.pk for row in rows] == [names[name].pk for name in expected]


def test_the_open_queue_by_desired_date_mixes_the_kinds_on_the_screen(staff_client, mixed_kinds):
    names = names_of(mixed_kinds)
    response = staff_client.get(reverse("reviews:queue"), {"sort": "start"})
    open_ones = [name for name in BY_DESIRED_DATE if name != "decided"]
    assert rows_of(response) == [names[name].reception_number for name in open_ones]
    [tie] = [
        row
        for row in Page(response).root.find_all("tr")
        if row.attrs.get("data-reception-number") == names["tie"].reception_number
    ]
    assert "利用終了希望日 2026/11/20" in " ".join(tie.text.split())


def _walk(sort: str, status: str, limit: int) -> tuple[list[int], list[int]]:
    """Every row by `next` pages from the first, then by `previous` pages back from the last: the ids in queue
    order both times."""
    today = clock.today()
    pages = [selectors.application_queue(status=status, sort=sort, today=today, limit=limit)]
    while pages[-1].next_cursor:
        pages.append(
            selectors.application_queue(
                status=status, sort=sort, after=pages[-1].next_cursor, today=today, limit=limit
            )
        )
    forwards = [row.pk for page in pages for row in page.rows]
    back = [pages[-1]]
    while back[-1].previous_cursor:
        back.append(
            selectors.application_queue(
                status=status, sort=sort, before=back[-1].previous_cursor, today=today, limit=limit
            )
        )
    assert back[-1].previous_cursor is None
    backwards = [row.pk for page in reversed(back) for row in page.rows]
    assert [len(page.rows) for page in reversed(back)] == [len(page.rows) for page in pages]
    return forwards, backwards


@pytest.mark.parametrize("status", ["", selectors.QUEUE_OPEN])
@pytest.mark.parametrize("sort", ["start", "-start"])
@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_keyset_pages_both_ways_over_mixed_kinds_and_no_date(mixed_kinds, sort, status, limit):
    names = names_of(mixed_kinds)
    expected = [name for name in BY_DESIRED_DATE if status == "" or name != "decided"]
    if sort == "-start":
        expected.reverse()
    forwards, backwards = _walk(sort, status, limit)
    assert forwards == [names[name].pk for name in expected]
    assert backwards == forwards


def test_a_cursor_on_an_application_with_no_desired_date_names_the_sentinel(mixed_kinds):
    today = clock.today()
    [undated] = selectors.application_queue(status="", sort="-start", today=today, limit=1).rows
    assert undated.pk == mixed_kinds["undated"].pk
    page = selectors.application_queue(status="", sort="-start", today=today, limit=1)
    assert page.next_cursor == f"-start|{NO_DESIRED_DATE.isoformat()}|{undated.pk}"
    after = selectors.application_queue(
        status="", sort="-start", after=page.next_cursor, today=today, limit=1
    )
    assert [row.pk for row in after.rows] == [mixed_kinds["late"].pk]


def test_the_csv_gives_each_kind_its_own_dates(staff_client, mixed_kinds, approver):
    """希望日 and 確定日: an addition's 利用開始希望日 and 利用開始日, a removal's 利用終了希望日 and 利用終了日,
    empty for an application with no desired date."""
    tie, addition, undated = mixed_kinds["tie"], mixed_kinds["fresh"], mixed_kinds["undated"]
    services.application_take(application=tie, actor=approver)
    services.application_approve(application=tie, actor=approver)
    services.application_take(application=addition, actor=approver)
    services.application_approve(application=addition, actor=approver, start_date=D(2026, 11, 25))
    _raw, rows = read_csv(staff_client.get(reverse("reviews:queue-export"), {"status": ""}))
    header, *body = rows
    records = {
        record["申込受付番号"]: record for record in (dict(zip(header, row, strict=True)) for row in body)
    }
    removal = records[tie.reception_number]
    assert (removal["申込の種類"], removal["希望日"], removal["確定日"]) == (
        "通関士IDの削除",
        "2026/11/20",
        "2026/11/20",
    )
    added = records[addition.reception_number]
    assert (added["申込の種類"], added["希望日"], added["確定日"]) == (
        "通関士IDの追加",
        "2026/11/24",
        "2026/11/25",
    )
    assert (records[undated.reception_number]["希望日"], records[undated.reception_number]["確定日"]) == (
        "",
        "",
    )


def test_the_csv_by_desired_date_is_in_the_queues_order(staff_client, mixed_kinds):
    names = names_of(mixed_kinds)
    _raw, rows = read_csv(staff_client.get(reverse("reviews:queue-export"), {"status": "", "sort": "start"}))
    header, *body = rows
    assert [row[0] for row in body] == [names[name].reception_number for name in BY_DESIRED_DATE]
    late = dict(zip(header, body[BY_DESIRED_DATE.index("late")], strict=True))
    assert late["希望日"] == "2026/12/01"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ja", "インタラクティブ処理方式 ×2、netNACCS ×1"), ("en", "Interactive processing ×2、netNACCS ×1")],
)
def test_a_row_counts_its_ids_by_processing_method_in_the_order_asked(staff_client, language, expected):
    from django.conf import settings

    mixed = submitted_application(methods=["interactive", "netnaccs", "interactive"])
    single = submitted_application(methods=["netnaccs"])
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rows = {
        row.attrs["data-reception-number"]: row
        for row in Page(staff_client.get(reverse("reviews:queue"))).root.find_all("tr")
        if "data-reception-number" in row.attrs
    }
    methods_cell = 5

    def methods(application):  # the cell's text without its spacing
        return "".join(rows[application.reception_number].find_all("td")[methods_cell].text.split())

    assert methods(mixed) == "".join(expected.split())
    assert methods(single) == "netNACCS×1"

    _raw, (header, *body) = read_csv(staff_client.get(reverse("reviews:queue-export")))
    exported = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    ids, method_column = header[7], header[6]
    assert exported[mixed.reception_number][ids] == "3"
    assert exported[mixed.reception_number][method_column] == expected.replace(" ×", "×")
    assert exported[single.reception_number][ids] == "1"
