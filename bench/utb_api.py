"""UTB API registrations per second: gunicorn with production-like settings on PostgreSQL and Redis, driven over
loopback by client threads, once with every request paying the full scrypt check and once with the verified-
credential cache (the default).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nss_bench_utb REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/utb_api.py --seconds 20 --clients 8 --workers 2

The database named in DATABASE_URL is dropped and re-created: it must be on 127.0.0.1 and its name must start with
nss_bench.
"""

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.databases import database_config, recreate_database  # noqa: E402
from devtools.processes import free_port, gunicorn_start  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

PASSWORD = "BENCH123"
BROKERS = 50


def prepare(url: str) -> None:
    recreate_database(database_config(url, prefix="nss_bench"))
    import django

    django.setup()
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from applications.models import Contract, NaccsUserId, ProcessingMethod
    from applications.passwords import hash_naccs_password

    call_command("migrate", verbosity=0)
    contract = Contract.objects.create(user_code="9BNCH", company_name="ベンチ通関", office_name="本社")
    method = ProcessingMethod.objects.get(code="interactive")
    contract.processing_methods.add(method)
    encoded = hash_naccs_password(PASSWORD)
    start = datetime.date(2026, 1, 5)
    NaccsUserId.objects.bulk_create(
        [
            NaccsUserId(
                contract=contract,
                identifier=f"B{index:02d}",
                processing_method=method,
                is_customs_broker=True,
                start_date=start,
                password_hash=encoded,
                password_changed_at=timezone.now(),
            )
            for index in range(BROKERS)
        ]
    )


def serve(port: int, workers: int, cache_seconds: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_DEBUG": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "NSS_UTB_VERIFIED_CACHE_SECONDS": str(cache_seconds),
    }
    return gunicorn_start(port=port, workers=workers, env=env)


def drive(port: int, seconds: float, clients: int) -> dict:
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    codes: dict[str, int] = {}
    lock = threading.Lock()

    def client(index: int) -> None:
        user = f"9BNCHB{index % BROKERS:02d}"
        auth = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        number = 0
        while time.monotonic() < deadline:
            number += 1
            body = json.dumps({"user_id": user, "licence_number": f"{index % 90 + 10}-{number % 100:02d}"})
            started = time.perf_counter()
            connection.request(
                "POST",
                "/utb/api/utb",
                body=body,
                headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            payload = json.loads(response.read())
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                key = payload.get("result_code", str(response.status))
                codes[key] = codes.get(key, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "registrations_per_s": codes.get("00000", 0) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "codes": codes,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL=postgres://…/nss_bench_utb and REDIS_URL=redis://…")
    prepare(url)
    print(
        f"UTB API, {args.clients} client threads, gunicorn {args.workers} workers, {args.seconds:.0f} s each\n"
    )
    print("| mode | requests/s | registrations/s | p50 ms | p95 ms | result codes |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, cache_seconds in (
        ("full scrypt check every request", 0),
        ("verified-credential cache (default)", 300),
    ):
        port = free_port()
        server = serve(port, args.workers, cache_seconds)
        try:
            drive(port, 2, args.clients)  # warm-up: imports, connections, first checks
            result = drive(port, args.seconds, args.clients)
        finally:
            server.terminate()
            server.wait(timeout=10)
        print(
            f"| {label} | {result['rps']:.1f} | {result['registrations_per_s']:.1f} | {result['p50_ms']:.1f} | "
            f"{result['p95_ms']:.1f} | {result['codes']} |"
        )


if __name__ == "__main__":
    main()
