"""devtools/: what the benchmarks, the drill and the suite share. The suite imports nothing of bench/, the
application nothing of devtools/ (nor of bench/ or tests/), the seed SQL's reception numbers carry the check letter
of applications/reception_numbers.py, scratch databases are refused unless they are scratch, and the SMTP sink
answers as its callers ask."""

import ast
import random
import smtplib
import threading
from pathlib import Path

import pytest
from django.db import connection

from applications.reception_numbers import FIRST_NUMBER, LAST_NUMBER, check_letter
from devtools.databases import database_config, reception_number_sql
from devtools.processes import wait_until
from devtools.smtp import SmtpSink, greylist_once

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_PACKAGES = ("applications", "notifications", "nss_portal", "reviews", "utb_gateway")


def imported_modules(path: Path) -> set[str]:
    """The top-level package of every absolute import in the file at `path`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def importers(folders, forbidden: set[str]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if imported_modules(path) & forbidden:
                found.append(str(path.relative_to(ROOT)))
    return found


def test_no_module_of_the_suite_imports_bench():
    assert len(list((ROOT / "tests").rglob("*.py"))) > 50  # the scan sees the suite
    assert importers(["tests"], {"bench"}) == []


def test_the_application_imports_neither_devtools_nor_bench_nor_tests():
    assert importers(APPLICATION_PACKAGES, {"devtools", "bench", "tests"}) == []


def test_the_import_scan_sees_both_kinds_of_import(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text("import bench.run\nfrom bench.processes import free_port\nfrom . import bench\n")
    assert imported_modules(path) == {"bench"}


# --- reception numbers of the seed SQL -------------------------------------------------------------------------


def sample_digits() -> list[str]:
    """The ends of the range, the digits the benchmarks seed, and a fixed random sample."""
    numbers = [FIRST_NUMBER + 1, FIRST_NUMBER + 2, LAST_NUMBER, 1_751_795, 9_000_001, 9_000_150]
    numbers += random.Random(23).sample(range(FIRST_NUMBER + 1, LAST_NUMBER + 1), 2000)
    return [str(number) for number in numbers]


@pytest.mark.django_db
def test_the_seed_sql_gives_every_number_the_check_letter_of_check_letter(require_postgres):
    digits = sample_digits()
    # The SQL is built from constants only (the expression and the alphabet of the check letter).
    of_text = reception_number_sql("d")
    # As the seeds use it: an integer expression of a generate_series turned into text, in SQL with parameters.
    of_series = reception_number_sql("(1000000 + i)::text")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT d, {of_text} FROM unnest(%s::text[]) AS d", [digits])  # noqa: S608
        from_sql = dict(cursor.fetchall())
        cursor.execute(f"SELECT {of_series} FROM generate_series(1, %s) AS i ORDER BY i", [100])  # noqa: S608
        seeded = [row[0] for row in cursor.fetchall()]
    assert from_sql == {value: value + check_letter(value) for value in digits}
    assert seeded == [f"{1000000 + i}{check_letter(str(1000000 + i))}" for i in range(1, 101)]
    assert len({number[-1] for number in from_sql.values()}) == 23  # every letter of the alphabet comes up


def test_the_seed_sql_needs_no_escaping_in_sql_run_with_parameters():
    assert "%" not in reception_number_sql("(1000000 + i)::text")


# --- scratch databases ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("sqlite:////tmp/nss_bench.sqlite3", "must be a postgres:// URL"),
        ("postgres://postgres@127.0.0.1:5432/nss_portal", "does not start with nss_bench"),
        ("postgres://postgres@db.example.jp:5432/nss_bench_run", "loopback only"),
    ],
)
def test_a_database_that_is_not_a_local_scratch_one_is_refused(url, reason):
    with pytest.raises(SystemExit, match=reason):
        database_config(url, prefix="nss_bench")


def test_a_local_scratch_database_is_accepted():
    config = database_config("postgres://postgres@127.0.0.1:5432/nss_drill_x", prefix="nss_drill")
    assert (config["NAME"], config["HOST"], config["PORT"]) == ("nss_drill_x", "127.0.0.1", 5432)


# --- the SMTP sink ----------------------------------------------------------------------------------------------


def send(sink: SmtpSink, to: str, *, quit: bool = True) -> None:
    client = smtplib.SMTP("127.0.0.1", sink.port, timeout=10)
    message = f"Subject: test\r\nMessage-ID: <{to}>\r\nTo: {to}\r\n\r\nbody\r\n"
    try:
        client.sendmail("from@example.com", [to], message)
    finally:
        if quit:
            client.quit()
        else:
            client.close()


def test_the_sink_asks_its_policy_counts_refusals_and_marks_who_said_quit():
    later = greylist_once()

    def policy(address):
        if address.startswith("gone"):
            return "550 5.1.1 mailbox unavailable"
        return later(address) if address.startswith("later") else ""

    ticks = iter(range(1, 100))
    with SmtpSink(rcpt_policy=policy, clock=lambda: next(ticks)) as sink:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                send(sink, "gone@example.com")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(sink, "later@example.com")
        send(sink, "later@example.com")
        send(sink, "cut@example.com", quit=False)
    first, second = sink.received()
    assert (first.message_id, first.rcpt_tos, first.quit) == (
        "<later@example.com>",
        ["later@example.com"],
        True,
    )
    assert (first.data_at, first.at) == (1, 2)
    assert (second.message_id, second.quit) == ("<cut@example.com>", False)
    assert (sink.rcpt_refused, sink.rcpt_deferred, sink.data_seen, sink.client_gone) == (2, 1, 2, 0)


def test_the_sink_holds_conversations_and_comes_back_on_the_same_port():
    sink = SmtpSink().start()
    try:
        sink.hold.set()
        sender = threading.Thread(target=send, args=(sink, "held@example.com"))
        sender.start()
        wait_until(lambda: sink.held == 1, timeout=10, message="the conversation is held at RCPT")
        assert sink.received() == []
        sink.hold.clear()
        sender.join(10)
        assert [mail.rcpt_tos for mail in sink.wait_for(1)] == [["held@example.com"]]

        port = sink.port
        sink.stop()
        with pytest.raises(ConnectionRefusedError):
            send(sink, "down@example.com")
        sink.start()
        send(sink, "back@example.com")
        assert sink.port == port
        assert [mail.message_id for mail in sink.received()] == ["<held@example.com>", "<back@example.com>"]
    finally:
        sink.stop()
