"""The contract import at scale (`make bench-import`): one CSV of 10,000 offices with 5 existing 利用者IDs and 2
customer accounts each (80,001 rows, written to a temporary directory as Excel writes "CSV UTF-8": with a BOM)
imported into an empty scratch PostgreSQL database with applications.contract_import.contracts_import, the service
behind `manage.py import_contracts`. Prints, for the first import, a second run of the same file (nothing to
change), and a run with 1,000 company names changed: the time, the SQL statements sent, and the process's peak
resident memory (ru_maxrss).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nss_bench_import .venv/bin/python bench/import_contracts.py

DATABASE_URL defaults to the address above. The database it names is dropped, created, migrated and dropped again
at the end (--keep leaves it): its name must start with nss_bench.
"""

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nss_bench_import"
OFFICES = 10_000
# Per office: (識別番号, processing method, 通関士ID?) and two accounts.
IDS = (
    ("A01", "interactive", "1"),
    ("A02", "interactive", "1"),
    ("G01", "interactive", "0"),
    ("N01", "netnaccs", "1"),
)
IDS += (("N02", "netnaccs", "1"),)
ACCOUNTS = 2
CHANGED_NAMES = 1_000


def database_name(url: str) -> str:
    import environ

    return environ.Env.db_url_config(url)["NAME"]


def write_file(path: Path, *, renamed: int = 0) -> int:
    """The CSV of OFFICES offices; the first `renamed` of them with a new company name. Returns the rows written."""
    from applications import contract_import as f

    def row(cells: dict[str, str]) -> list[str]:
        return [cells.get(column, "") for column in f.COLUMNS]

    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(f.COLUMNS)
        for number in range(OFFICES):
            user_code = f"B{number:04d}"
            company = f"ベンチ通関{number}株式会社" + ("（新社名）" if number < renamed else "")
            writer.writerow(
                row(
                    {
                        f.KIND: f.KIND_CONTRACT,
                        f.USER_CODE: user_code,
                        f.COMPANY_NAME: company,
                        f.OFFICE_NAME: "本社事業所",
                        f.DEPARTMENT: "通関部",
                        f.ADDRESS: f"東京都港区港南{number % 9 + 1}丁目{number % 30 + 1}番{number % 20 + 1}号",
                        f.PROCESSING_METHOD: "interactive netnaccs",
                    }
                )
            )
            for identifier, method, broker in IDS:
                writer.writerow(
                    row(
                        {
                            f.KIND: f.KIND_NACCS_USER_ID,
                            f.USER_CODE: user_code,
                            f.PROCESSING_METHOD: method,
                            f.IDENTIFIER: identifier,
                            f.CUSTOMS_BROKER: broker,
                            f.BROKER_NAME: f"通関 太郎{identifier}" if broker == "1" else "",
                            f.START_DATE: "2024/04/01",
                        }
                    )
                )
            for index in range(1, ACCOUNTS + 1):
                username = f"b{number:04d}-{index}"
                writer.writerow(
                    row(
                        {
                            f.KIND: f.KIND_ACCOUNT,
                            f.USER_CODE: user_code,
                            f.DEPARTMENT: "通関部",
                            f.USERNAME: username,
                            f.FULL_NAME: f"山田 花子{index}",
                            f.PHONE: f"03-{number:04d}-{index:04d}",
                            f.EMAIL: f"{username}@example.co.jp",
                        }
                    )
                )
            rows += 1 + len(IDS) + ACCOUNTS
    return rows


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed_import(label: str, data: bytes):
    from django.db import connection

    from applications.contract_import import contracts_import

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        report = contracts_import(file=data)
    seconds = time.perf_counter() - started
    if report.errors:
        sys.exit(f"{label}: {len(report.errors)} errors, first: {report.errors[0]}")
    counts = "; ".join(
        f"{kind} {c.created:,} created / {c.updated:,} updated / {c.unchanged:,} unchanged"
        for kind, c in (
            ("contracts", report.contracts),
            ("IDs", report.naccs_user_ids),
            ("accounts", report.accounts),
        )
    )
    print(f"{label:<28} {seconds:7.2f} s  {counter.count:4d} queries  peak RSS {peak_rss_mib():6.0f} MiB")
    print(f"{'':<28} {counts}  ({report.encoding})")
    return report, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="leave the scratch database in place afterwards")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at a scratch PostgreSQL database (postgres://…/nss_bench…)")
    os.environ["DATABASE_URL"] = url
    from devtools.databases import database_config, drop_database, recreate_database

    config = database_config(url, prefix="nss_bench")  # refuses another name, or a database not on loopback
    recreate_database(config)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from applications.models import Contract, NaccsUserId, User

    try:
        call_command("migrate", verbosity=0)
        with tempfile.TemporaryDirectory(prefix="nss-bench-import-") as directory:
            path = Path(directory) / "contracts.csv"
            rows = write_file(path)
            data = path.read_bytes()
            print(
                f"file: {OFFICES:,} offices × ({len(IDS)} IDs + {ACCOUNTS} accounts) = {rows:,} rows, "
                f"{len(data) / 2**20:.1f} MiB, UTF-8 with BOM; database {database_name(url)}"
            )
            print(f"{'before the import':<28} {'':>7}    {'':>4}          peak RSS {peak_rss_mib():6.0f} MiB")
            first, _ = timed_import("first import (all new)", data)
            assert (first.contracts.created, first.naccs_user_ids.created, first.accounts.created) == (
                OFFICES,
                OFFICES * len(IDS),
                OFFICES * ACCOUNTS,
            )
            again, _ = timed_import("same file again (no change)", data)
            assert not again.written and again.contracts.unchanged == OFFICES
            write_file(path, renamed=CHANGED_NAMES)
            changed, _ = timed_import(f"{CHANGED_NAMES:,} company names changed", path.read_bytes())
            assert changed.contracts.updated == CHANGED_NAMES
        stored = (Contract.objects.count(), NaccsUserId.objects.count(), User.objects.count())
        print(f"stored: {stored[0]:,} contracts, {stored[1]:,} 利用者IDs, {stored[2]:,} accounts")
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(config)


if __name__ == "__main__":
    main()
