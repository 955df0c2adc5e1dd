"""Staff queue at scale: seeds N applications into a scratch PostgreSQL database and times every filter, search
and page of the staff queue (reviews.selectors.application_queue) and the 業務状況 dashboard
(reviews.dashboard.dashboard_figures), printing the scan types of the dashboard's query plans.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nss_bench .venv/bin/python bench/queue_scale.py --rows 1000000

The database named in DATABASE_URL is dropped and re-created: it must be on 127.0.0.1 and its name must start with
nss_bench. The seeded reception numbers are 1000001… with their real check letters.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

import django

from applications.reception_numbers import check_letter
from devtools.databases import database_config, reception_number_sql, recreate_database

CONTRACTS = 9_999
# The i-th seeded application's reception number: the digits FIRST_DIGITS + i and their check letter.
FIRST_DIGITS = 1_000_000


def seeded_reception_number(i: int) -> str:
    digits = str(FIRST_DIGITS + i)
    return digits + check_letter(digits)


def seed(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO applications_contract (user_code, company_name, office_name, department, address, created_at)
            SELECT 'B' || lpad(i::text, 4, '0'), '株式会社ベンチ' || i, '本社', '', '', now()
            FROM generate_series(1, %s) AS i
            """,
            [CONTRACTS],
        )
        cursor.execute(
            """
            INSERT INTO applications_contract_processing_methods (contract_id, processingmethod_id)
            SELECT c.id, m.id FROM applications_contract c CROSS JOIN applications_processingmethod m
            """
        )
        cursor.execute(
            """
            INSERT INTO applications_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                is_active, date_joined, contract_id, full_name, department, phone)
            SELECT '!', false, 'bench' || c.id, '', '', '', false, true, now(), c.id, '', '', ''
            FROM applications_contract c
            """
        )
        # Statuses: 1% 受付, 0.5% 内容確認中, the rest decided 1 to 9 hours after receipt (varying with i);
        # submitted every 30 s up to now. Kinds: one in 7 is 通関士IDの削除 (a 利用終了希望日, no 利用開始希望日),
        # and one in 13 of those has no desired date at all (as a kind that asks for none); the desired dates
        # spread over two months, so that the sort by 利用開始希望日 is not the order of submission.
        cursor.execute(
            f"""
            INSERT INTO applications_application (contract_id, kind, status, reception_number, applicant_name,
                applicant_department, applicant_phone, applicant_email, desired_start_date, desired_end_date,
                created_by_id, created_at, updated_at, submitted_at, answer_due_on, decided_at, rejection_reason)
            SELECT c.id, s.kind, s.status,
                {reception_number_sql(f"({FIRST_DIGITS} + i)::text")}, 'ベンチ', '', '03-0000-0000',
                'bench@example.com',
                CASE WHEN s.kind = 'add_customs_broker_ids' THEN current_date + 2 + (i %% 61) END,
                CASE WHEN s.kind = 'remove_broker_ids' AND i %% 13 <> 0 THEN current_date + 2 + (i %% 59) END,
                u.id, now(), now(), s.submitted_at, s.submitted_at::date + 1,
                CASE WHEN s.status IN ('approved', 'rejected')
                     THEN s.submitted_at + interval '1 hour' + (i %% 97) * interval '5 minutes' END, ''
            FROM generate_series(1, %s) AS i
            CROSS JOIN LATERAL (SELECT
                CASE WHEN i %% 200 < 2 THEN 'submitted' WHEN i %% 200 = 2 THEN 'under_review'
                     WHEN i %% 200 < 20 THEN 'rejected' ELSE 'approved' END AS status,
                CASE WHEN i %% 7 = 1 THEN 'remove_broker_ids' ELSE 'add_customs_broker_ids' END AS kind,
                now() - (%s - i) * interval '30 seconds' AS submitted_at) AS s
            JOIN applications_contract c ON c.id = 1 + (i %% %s)
            JOIN applications_user u ON u.contract_id = c.id
            """,
            [rows, rows, CONTRACTS],
        )
        cursor.execute(
            """
            INSERT INTO applications_applicationitem (application_id, processing_method_id, desired_identifier,
                broker_name, created_at)
            SELECT a.id, (SELECT id FROM applications_processingmethod ORDER BY sort_order LIMIT 1 OFFSET (a.id % 2)),
                '', 'ベンチ ' || a.id, now()
            FROM applications_application a
            """
        )
        # VACUUM as well: autovacuum keeps a live table's visibility map current, which index-only scans rely on;
        # a table filled a moment ago has none yet. CHECKPOINT: the seed's gigabyte of dirty pages is written out
        # now rather than while the cases are timed.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")


def scan_types(sql: str) -> list[str]:
    """The scans of the plan PostgreSQL runs for `sql` (EXPLAIN ANALYZE), alike ones taken together: how many,
    node type, index or table, rows, heap fetches of index-only scans; then the execution time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]
    scans: dict[tuple[str, str], list[int]] = {}

    def walk(node):
        if "Scan" in node["Node Type"]:
            key = (node["Node Type"], node.get("Index Name") or node.get("Relation Name") or "")
            seen = scans.setdefault(key, [0, 0, 0])
            seen[0] += 1
            seen[1] += node["Actual Rows"]
            seen[2] += node.get("Heap Fetches", 0)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    lines = []
    for (node_type, where), (count, rows, fetches) in scans.items():
        fetched = f", {fetches} heap fetches" if node_type == "Index Only Scan" else ""
        lines.append(f"{count} × {node_type} on {where} ({rows:,} rows{fetched})")
    return [*lines, f"execution {plan['Execution Time']:.1f} ms"]


class CountsPage:
    """The counts, shaped like a page for the table below (its rows: the four figures)."""

    def __init__(self, counts):
        self.rows = [counts.submitted, counts.under_review, counts.overdue, counts.mine]


def staff_for_mine():
    """A reviewer holding a third of the seeded 内容確認中 applications (自分の担当 and its count)."""
    from django.db import connection

    from applications.models import User

    staff, _created = User.objects.get_or_create(username="bench-reviewer", defaults={"is_staff": True})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE applications_application SET reviewer_id = %s WHERE status = 'under_review' AND id %% 3 = 0",
            [staff.pk],
        )
        # The update leaves those pages out of the visibility map; without this the index-only scans visit the heap.
        cursor.execute("VACUUM (ANALYZE) applications_application")
    return staff


def timed(label, func, repeat=7):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        samples.append((time.perf_counter() - started) * 1000)
    return label, statistics.median(samples), max(samples), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse an already seeded database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://…/nss_bench (a scratch database)")
    if not args.keep:
        recreate_database(database_config(url, prefix="nss_bench"))
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from applications import clock
    from applications.models import Application, desired_date_expression
    from reviews.dashboard import dashboard_figures
    from reviews.selectors import application_queue, queue_counts

    if not args.keep:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.rows)
        print(f"seeded {args.rows:,} applications in {time.perf_counter() - started:.1f} s")

    today = clock.today()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM applications_application")
        total = cursor.fetchone()[0]
    first = application_queue(status="", today=today)
    second = application_queue(status="", after=first.next_cursor, today=today)
    staff = staff_for_mine()
    deep_cursor = None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT submitted_at, id FROM applications_application ORDER BY submitted_at, id OFFSET %s LIMIT 1",
            [total // 2],
        )
        stamp, pk = cursor.fetchone()
        deep_cursor = f"submitted|{stamp.isoformat()}|{pk}"
    middle_date, middle_pk = (
        Application.objects.annotate(desired=desired_date_expression())
        .order_by("desired", "pk")
        .values_list("desired", "pk")[total // 2]
    )
    deep_by_date = f"start|{middle_date.isoformat()}|{middle_pk}"
    cases = [
        ("open (default), first page", lambda: application_queue(today=today)),
        ("all statuses, first page", lambda: application_queue(status="", today=today)),
        (
            "all statuses, next page",
            lambda: application_queue(status="", after=first.next_cursor, today=today),
        ),
        (
            "all statuses, page in the middle",
            lambda: application_queue(status="", after=deep_cursor, today=today),
        ),
        ("status 審査終了, first page", lambda: application_queue(status="approved", today=today)),
        ("method netNACCS, open", lambda: application_queue(method_code="netnaccs", today=today)),
        ("overdue", lambda: application_queue(overdue=True, today=today)),
        (
            "search reception number",
            lambda: application_queue(status="", q=seeded_reception_number(total // 3), today=today),
        ),
        ("search 利用者コード", lambda: application_queue(status="", q="B0042", today=today)),
        ("search company name part", lambda: application_queue(status="", q="ベンチ4242", today=today)),
        ("search office name part", lambda: application_queue(status="", q="本社", today=today)),
        ("open, by 利用開始希望日", lambda: application_queue(sort="start", today=today)),
        (
            "all statuses, by 利用開始希望日 (latest first)",
            lambda: application_queue(status="", sort="-start", today=today),
        ),
        (
            "all statuses, by 利用開始希望日, page in the middle",
            lambda: application_queue(status="", sort="start", after=deep_by_date, today=today),
        ),
        (
            "all statuses, by 利用開始希望日, previous page from the middle",
            lambda: application_queue(status="", sort="start", before=deep_by_date, today=today),
        ),
        ("all statuses, newest first", lambda: application_queue(status="", sort="-submitted", today=today)),
        (
            "all statuses, previous page",
            lambda: application_queue(status="", before=second.previous_cursor, today=today),
        ),
        ("自分の担当", lambda: application_queue(mine=staff, today=today)),
        (
            "counts (受付, 内容確認中, 超過, 自分の担当)",
            lambda: CountsPage(queue_counts(actor=staff, today=today)),
        ),
    ]
    print(f"\nstaff queue over {total:,} applications (PostgreSQL, median / max of 7 runs, 50 rows a page)\n")
    print("| case | rows | median ms | max ms | queries |")
    print("| --- | ---: | ---: | ---: | ---: |")
    from django.test.utils import CaptureQueriesContext

    for label, func in cases:
        with CaptureQueriesContext(connection) as captured:
            func()
        label, median, worst, page = timed(label, func)
        print(
            f"| {label} | {len(page.rows)} | {median:.1f} | {worst:.1f} | {len(captured.captured_queries)} |"
        )

    print(
        "\nplans of the queue's default first page, its counts and its sorts by 利用開始希望日 (EXPLAIN ANALYZE):"
    )
    for label, func in (
        ("first page", lambda: application_queue(today=today)),
        ("counts", lambda: queue_counts(actor=staff, today=today)),
        ("open, by 利用開始希望日", lambda: application_queue(sort="start", today=today)),
        (
            "all statuses, by 利用開始希望日 (latest first)",
            lambda: application_queue(status="", sort="-start", today=today),
        ),
        (
            "all statuses, by 利用開始希望日, page in the middle",
            lambda: application_queue(status="", sort="start", after=deep_by_date, today=today),
        ),
    ):
        with CaptureQueriesContext(connection) as captured:
            func()
        print(f"  {label}:")
        for query in captured.captured_queries:
            if not query["sql"].startswith("SELECT"):
                continue
            print(f"    {query['sql'][:110]}…")
            for line in scan_types(query["sql"]):
                print(f"       {line}")

    with CaptureQueriesContext(connection) as captured:
        dashboard_figures(today=today)
    _label, median, worst, figures = timed("dashboard", lambda: dashboard_figures(today=today))
    print(f"\n業務状況 over {total:,} applications (PostgreSQL, median / max of 7 runs)\n")
    print("| case | figures | median ms | max ms | queries |")
    print("| --- | --- | ---: | ---: | ---: |")
    shown = (
        f"{figures.received:,} received, {figures.decided:,} decided in {len(figures.days)} business days; "
        f"median {figures.median_hours:.1f} h, p90 {figures.p90_hours:.1f} h; "
        f"{figures.open:,} open, {figures.overdue:,} overdue"
    )
    print(f"| dashboard_figures | {shown} | {median:.1f} | {worst:.1f} | {len(captured.captured_queries)} |")
    print("\nplans of the dashboard's queries (EXPLAIN ANALYZE):")
    for number, query in enumerate(captured.captured_queries, start=1):
        print(f"  {number}. {query['sql'][:110]}…")
        for line in scan_types(query["sql"]):
            print(f"       {line}")


if __name__ == "__main__":
    main()
