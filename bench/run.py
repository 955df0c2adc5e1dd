"""The portal's benchmark (`make bench`; `make bench QUICK=1` for the small size only).

For each size (1,000 and 1,000,000 applications; 1,000 only with --quick) it:

1. drops and re-creates a scratch PostgreSQL database (on 127.0.0.1, its name starting with nss_bench), migrates
   it and seeds it: the bulk of the applications with the fast SQL of bench/queue_scale.py, the demo offices and
   staff of load_demo, then — through the real services — an approved application with issued IDs, a rejected
   one, one under review and one just submitted for the demo customer's office, plus a history of 150 decided
   ones;
2. counts the SQL queries of each page once, in-process, with Django's test client (CaptureQueriesContext);
3. serves the portal with gunicorn (2 workers) and production-like settings (DEBUG off, generated secret and
   encryption keys, Redis cache, manifest static files, WARNING logs) and drives every page with wrk on
   127.0.0.1: a warm-up, then the measured run, one page after the other;
4. prints a Markdown table per size and writes bench/results.json:
   [{"size": N, "floor_rps": F, "pages": [{"name", "rps", "p50_ms", "p95_ms", "p99_ms", "queries",
   "floor_ratio"}]}], floor_ratio being the page's requests/s divided by /healthz's (the framework floor: the
   same stack answering a trivial JSON view that touches no database).

Exits non-zero when any page answered anything but 200 during a run.

    .venv/bin/python bench/run.py [--quick] [--seconds S] [--threads T] [--connections C]

Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nss_bench_run — dropped and re-created:
point it at a scratch database only), REDIS_URL (default redis://127.0.0.1:6379/5, a database of its own).
Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import base64
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH_DIR))

import layers  # noqa: E402
from queue_scale import seed  # noqa: E402

from devtools.databases import database_config, reception_number_sql, recreate_database  # noqa: E402
from devtools.processes import free_port, gunicorn_start  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nss_bench_run"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
FULL_SIZES = (1_000, 1_000_000)
QUICK_SIZES = (1_000,)
OFFICE_HISTORY = 150  # decided applications of the demo office, inserted with SQL (three pages of its list)
OFFICE_HISTORY_DIGITS = 9_000_000  # their reception numbers: 9000001… with their check letters
STAFF_SEARCH = "ベンチ42"  # part of a company name: 111 offices of the seeded 9,999
RESULTS = BENCH_DIR / "results.json"

# The demo IDs of load_demo that call the UTB API (inputters: 利用者ID, UTB password).
UTB_INPUTTERS = (("1ANACA0A", "TSUKAN01"), ("1ANACY27", "TSUKAN02"))

LUA_COMMON = r"""
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  not_ok = 0
  counter = 0
  auths = {}
  targets = {}
  if args[1] == "utb" then
    for value in string.gmatch(args[2], "[^,]+") do auths[#auths + 1] = value end
    for value in string.gmatch(args[3], "[^,]+") do targets[#targets + 1] = value end
  end
end

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  elseif #targets > 0 and not string.find(body, '"result_code": "00000"', 1, true) then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local unexpected_total, not_ok_total = 0, 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
    not_ok_total = not_ok_total + thread:get("not_ok")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"unexpected_status": %d, "not_ok": %d, "status_errors": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), unexpected_total, not_ok_total, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout))
end
"""

# POST /utb/api/utb with a JSON body and HTTP Basic, rotating inputters, target IDs and licence numbers.
LUA_UTB = r"""
function request()
  counter = counter + 1
  local auth = auths[counter % #auths + 1]
  local target = targets[counter % #targets + 1]
  local body = string.format('{"user_id": "%s", "licence_number": "%d-%02d"}', target, 10 + id % 90,
    counter % 100)
  return wrk.format("POST", nil, {["Authorization"] = "Basic " .. auth,
    ["Content-Type"] = "application/json"}, body)
end
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def production_env(database_url: str, redis_url: str, static_root: str) -> dict[str, str]:
    """What gunicorn runs with (and this process too, so that sessions, hashes and ciphertexts agree)."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "nss_portal.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "false",
        # Every security default at its production value, except the redirect to HTTPS: wrk speaks plain HTTP
        # on loopback where production has a TLS-terminating proxy in front.
        "DJANGO_PRODUCTION": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "NSS_BASE_URL": "https://nss.example",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "NSS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "WHITENOISE_USE_FINDERS": "false",
        "DJANGO_STATIC_ROOT": static_root,
    }


# Seeding ----------------------------------------------------------------------------------------------------


def seed_office_history(contract_id: int, customer_id: int, count: int) -> None:
    """Decided applications of the demo office over the past years (one ID each), for its list's pages."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO applications_application (contract_id, kind, status, reception_number, applicant_name,
                applicant_department, applicant_phone, applicant_email, desired_start_date, start_date,
                created_by_id, created_at, updated_at, submitted_at, answer_due_on, decided_at, rejection_reason)
            SELECT %s, 'add_customs_broker_ids', CASE WHEN i %% 10 = 0 THEN 'rejected' ELSE 'approved' END,
                {reception_number_sql(f"({OFFICE_HISTORY_DIGITS} + i)::text")}, '山田 花子', '通関部', '03-1234-5678',
                'demo-customer@example.com',
                (now() - i * interval '5 days')::date + 7,
                CASE WHEN i %% 10 = 0 THEN NULL ELSE (now() - i * interval '5 days')::date + 7 END,
                %s, now() - i * interval '5 days', now(), now() - i * interval '5 days',
                (now() - i * interval '5 days')::date + 1, now() - i * interval '5 days' + interval '1 day',
                CASE WHEN i %% 10 = 0 THEN '書類に不備があるため' ELSE '' END
            FROM generate_series(1, %s) AS i
            """,
            [contract_id, customer_id, count],
        )
        cursor.execute(
            """
            INSERT INTO applications_applicationitem (application_id, processing_method_id, desired_identifier,
                broker_name, created_at)
            SELECT a.id, (SELECT id FROM applications_processingmethod WHERE code = 'interactive'), '',
                '通関 太郎' || a.id, a.submitted_at
            FROM applications_application a
            WHERE a.contract_id = %s AND a.reception_number LIKE '9%%'
            """,
            [contract_id],
        )


def seed_through_services() -> dict:
    """The demo office's current applications, made the way production makes them."""
    from applications import clock, rules
    from applications import services as application_services
    from applications.models import NaccsUserId, ProcessingMethod, User
    from reviews import services as review_services

    customer = User.objects.get(username="demo-customer")
    reviewer = User.objects.get(username="demo-reviewer")
    methods = {method.code: method for method in ProcessingMethod.objects.all()}
    desired = rules.earliest_start_date(clock.today())

    def submitted(items):
        draft = application_services.application_draft_start(user=customer)
        for code, broker_name in items:
            application_services.application_item_add(
                application=draft,
                desired_start_date=desired,
                processing_method=methods[code],
                desired_identifier="",
                broker_name=broker_name,
            )
        return application_services.application_submit(application=draft)

    approved = submitted(
        [("interactive", "鈴木 一郎"), ("netnaccs", "鈴木 一郎"), ("interactive", "佐藤 次郎")]
    )
    review_services.application_take(application=approved, actor=reviewer)
    review_services.progress_notice_post(
        application=approved, actor=reviewer, text="内容を確認しています。しばらくお待ちください。"
    )
    review_services.application_approve(application=approved, actor=reviewer)
    rejected = submitted([("interactive", "高橋 三郎")])
    review_services.application_take(application=rejected, actor=reviewer)
    review_services.application_reject(
        application=rejected, actor=reviewer, reason="通関士の登録を確認できませんでした。"
    )
    under_review = submitted([("netnaccs", "田中 四郎")])
    review_services.application_take(application=under_review, actor=reviewer)
    submitted([("interactive", "伊藤 五郎")])
    issued = list(
        NaccsUserId.objects.filter(issued_by=approved)
        .values_list("identifier", flat=True)
        .order_by("identifier")
    )
    return {"approved_pk": approved.pk, "issued": issued, "real_count": 4}


def prepare_database(scratch: dict, size: int) -> dict:
    """Drop, re-create, migrate and seed; `size` applications in all."""
    from django.core.management import call_command
    from django.db import connection, connections

    from applications.models import Application, Contract, User

    connections.close_all()
    recreate_database(scratch)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    real_count = 4
    bulk = size - real_count - OFFICE_HISTORY
    seed(bulk)  # bench/queue_scale.py: 9,999 offices and their accounts, `bulk` applications with one ID each
    with connection.cursor() as cursor:
        # Reception numbers the services allocate from now on must not meet the seeded ones.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('applications_receptionnumberallocation', 'id'), %s)",
            [bulk + 1],
        )
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    seeded = seed_through_services()
    contract = Contract.objects.get(user_code="1ANAC")
    customer = User.objects.get(username="demo-customer")
    seed_office_history(contract.pk, customer.pk, OFFICE_HISTORY)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Application.objects.count()
    log(f"seeded {total:,} applications in {time.perf_counter() - started:.1f} s")
    if total != size:
        sys.exit(f"seeding made {total} applications, expected {size}")
    return seeded


def session_cookie(username: str, *, otp: bool = False) -> str:
    """A logged-in session made directly in the session store (what django.contrib.auth.login and, for staff,
    django_otp.login would leave there), so the benchmark needs no password or TOTP code."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applications.models import User

    user = User.objects.get(username=username)
    store = SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    # The backend that authenticates passwords (django-axes' backend, listed first, only refuses lockouts): the
    # portal's, which loads the account with its contract as a real login's session does.
    store[BACKEND_SESSION_KEY] = "nss_portal.backends.PortalBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if otp:
        store[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def basic(user_id: str, password: str) -> str:
    return base64.b64encode(f"{user_id}:{password}".encode()).decode()


def pages_for(seeded: dict) -> list[dict]:
    customer = session_cookie("demo-customer")
    staff = session_cookie("demo-reviewer", otp=True)
    pk = seeded["approved_pk"]
    targets = ["1ANACA0A", "1ANACY27"] + [f"1ANAC{identifier}" for identifier in seeded["issued"]]
    return [
        {"name": "customer menu", "path": "/menu/", "cookie": customer},
        {"name": "application list", "path": "/applications/", "cookie": customer},
        {"name": "application detail", "path": f"/applications/{pk}/", "cookie": customer},
        {"name": "ID notice", "path": f"/applications/{pk}/id-notice/", "cookie": customer},
        {"name": "staff queue, first page", "path": "/staff/", "cookie": staff},
        {
            "name": "staff queue, search",
            "path": "/staff/?" + urlencode({"status": "", "q": STAFF_SEARCH}),
            "cookie": staff,
        },
        {
            "name": "UTB registration (API)",
            "path": "/utb/api/utb",
            "utb": {"auths": [basic(*inputter) for inputter in UTB_INPUTTERS], "targets": targets},
        },
    ]


# Queries and CPU per request (in-process) -------------------------------------------------------------------


def _caller(page: dict):
    """A function that sends one request of `page` with Django's test client (its own cookies)."""
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")
    if page.get("cookie"):
        name, _sep, value = page["cookie"].partition("=")
        client.cookies[name] = value

    def call():
        if "utb" in page:
            body = json.dumps({"user_id": page["utb"]["targets"][1], "licence_number": "29-10"})
            return client.post(
                page["path"],
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Basic {page['utb']['auths'][0]}"},
            )
        return client.get(page["path"])

    return call


CALL_COUNT_REQUESTS = 10
CPU_BATCHES = 5


def measure_in_process(
    pages: list[dict], *, repeat: int, profile: int = 0, sort: str = "tottime", sql: bool = False
) -> None:
    """For each page (the floor /healthz included): the SQL queries of one request after a warm-up (caches, the
    verified credential), the CPU time this process spends per request over `repeat` requests split by layer
    (bench/layers.py) — Python's share of a request (PostgreSQL's work is another process's), the least of 5
    batches — and the Python calls per request, the same whatever the machine's load. With
    `profile`, cProfile's `profile` costliest functions per page are printed (by own time, or by `sort`); with
    `sql`, the SQL of each page's request."""
    import cProfile
    import io as _io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for page in pages:
        call = _caller(page)
        for _warm_up in range(3):
            call()
        with CaptureQueriesContext(connection) as captured:
            response = call()
        if response.status_code != 200:
            sys.exit(f"{page['name']}: {page['path']} answered {response.status_code} in-process")
        if "utb" in page and response.json().get("result_code") != "00000":
            log(f"note: {page['name']} answers {response.json().get('result_code')} (UTB hours are weekdays)")
        page["queries"] = len(captured.captured_queries)
        if sql:
            statements = "\n".join(
                f"{query['time']} s  {query['sql']}" for query in captured.captured_queries
            )
            print(f"\n#### SQL: {page['name']}\n{statements}\n", flush=True)
        # In batches, keeping the least: what the page costs when the rest of the machine disturbs it least.
        split = layers.per_request(call, repeat, batches=CPU_BATCHES)
        page["cpu_ms"], page["in_process_ms"], page["layers_ms"] = split.cpu_ms, split.wall_ms, split.layers
        # Python function calls per request: what the CPU time follows, but the same from run to run whatever
        # else the machine is doing (the CPU figure moves by a quarter on a busy 2-core machine).
        counter = cProfile.Profile()
        counter.enable()
        for _request in range(CALL_COUNT_REQUESTS):
            call()
        counter.disable()
        page["python_calls"] = round(pstats.Stats(counter).total_calls / CALL_COUNT_REQUESTS)
        log(
            f"{page['name']}: {page['queries']} queries, {page['cpu_ms']:.2f} ms CPU per request in-process "
            f"({page['in_process_ms']:.2f} ms with the database round trips), "
            f"{page['python_calls']:,} Python calls per request; "
            + ", ".join(f"{layer} {ms:.2f}" for layer, ms in page["layers_ms"].items())
        )
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _request in range(repeat):
                call()
            profiler.disable()
            out = _io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats(sort).print_stats(profile)
            print(
                f"\n#### profile: {page['name']} ({repeat} requests, by {sort})\n{out.getvalue()}",
                flush=True,
            )


# Serving and load -------------------------------------------------------------------------------------------


def serve(port: int, env: dict[str, str], workers: int, extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    return gunicorn_start(port=port, workers=workers, env=env, extra_args=extra_args)


def drain(port: int) -> None:
    """Wait until gunicorn has finished what wrk left behind: its sync workers still answer every request they had
    accepted when wrk hung up, which would otherwise eat into the next page's run. Idle = three /healthz in a row
    answered within 100 ms (or a minute has passed)."""
    deadline = time.monotonic() + 60
    fast = 0
    while fast < 3 and time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
        except OSError:
            time.sleep(0.2)
        fast = fast + 1 if time.perf_counter() - started < 0.1 else 0


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(port: int, page: dict, *, seconds: float, threads: int, connections: int, scripts: dict) -> dict:
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=30s",
        "--latency",
    ]
    if page.get("cookie"):
        command += ["--header", f"Cookie: {page['cookie']}"]
    if "utb" in page:
        command += ["--script", scripts["utb"], f"http://127.0.0.1:{port}{page['path']}", "--", "utb"]
        command += [",".join(page["utb"]["auths"]), ",".join(page["utb"]["targets"])]
    else:
        command += ["--script", scripts["get"], f"http://127.0.0.1:{port}{page['path']}"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(r"^BENCH-RESULT (\{.*\})$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or not match:
        sys.exit(f"wrk failed on {page['name']}:\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(match.group(1))
    if os.environ.get("BENCH_DEBUG"):
        print(command, completed.stdout, completed.stderr, sep="\n", flush=True)
    result["raw"] = completed.stdout
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure_size(
    size: int, args, scratch: dict, env: dict[str, str], scripts: dict
) -> tuple[dict, dict, bool]:
    """(the size's results.json object, the floor's wrk result, whether a page answered other than 200)."""
    log(f"size {size:,}: preparing the database")
    seeded = prepare_database(scratch, size)
    pages = [page for page in pages_for(seeded) if not args.only or args.only in page["name"]]
    floor = {"name": "framework floor (/healthz)", "path": "/healthz"}
    measure_in_process(
        [floor, *pages], repeat=args.repeat, profile=args.profile, sort=args.sort, sql=args.sql
    )
    if args.no_load:
        return _summary(size, pages, floor, None), floor, False
    port = free_port()
    server = serve(port, env, args.workers, tuple(shlex.split(args.gunicorn)))
    failed = False
    load = {"threads": args.threads, "connections": args.connections, "scripts": scripts}
    try:
        for page in [floor, *pages]:
            drain(port)
            wrk(port, page, seconds=args.warmup, **load)
            drain(port)
            result = page["result"] = wrk(port, page, seconds=args.seconds, **load)
            problems = []
            if result["unexpected_status"] or result["status_errors"]:
                problems.append(
                    f"{max(result['unexpected_status'], result['status_errors'])} responses not 200"
                )
                failed = True
            socket_errors = sum(
                result[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            if socket_errors:
                problems.append(f"{socket_errors} socket errors/timeouts")
            if result["not_ok"]:
                problems.append(f"{result['not_ok']} UTB result codes other than 00000")
            log(
                f"{page['name']}: {result['rps']:.1f} req/s, p50 {result['p50_us'] / 1000:.1f} ms"
                + (f" — {'; '.join(problems)}" if problems else "")
            )
            if failed and problems:
                print(result["raw"], flush=True)
    finally:
        stop(server)
    return _summary(size, pages, floor, floor["result"]["rps"]), floor["result"], failed


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 3) for name, value in figures.items()}


def _summary(size: int, pages: list[dict], floor: dict, floor_rps: float | None) -> dict:
    """The size's results.json object; without a load run (--no-load) the wrk figures are None."""

    def under_load(page, key, scale=1.0):
        result = page.get("result")
        return round(result[key] / scale, 2) if result else None

    return {
        "size": size,
        "floor_rps": round(floor_rps, 1) if floor_rps else None,
        "floor_cpu_ms": round(floor["cpu_ms"], 3),
        "floor_python_calls": floor["python_calls"],
        "floor_layers_ms": _rounded(floor["layers_ms"]),
        "pages": [
            {
                "name": page["name"],
                "rps": under_load(page, "rps"),
                "p50_ms": under_load(page, "p50_us", 1000),
                "p95_ms": under_load(page, "p95_us", 1000),
                "p99_ms": under_load(page, "p99_us", 1000),
                "queries": page["queries"],
                "cpu_ms": round(page["cpu_ms"], 3),
                "python_calls": page["python_calls"],
                "layers_ms": _rounded(page["layers_ms"]),
                "floor_ratio": round(page["result"]["rps"] / floor_rps, 3) if floor_rps else None,
            }
            for page in pages
        ],
    }


def layers_markdown(summary: dict) -> str:
    """Where each page's CPU time goes (bench/layers.py), ms per request."""
    lines = [
        "CPU ms per request by layer (in-process, bench/layers.py):",
        "",
        "| page | " + " | ".join(layers.LAYERS) + " | all |",
        "| --- |" + " ---: |" * (len(layers.LAYERS) + 1),
    ]
    rows = [("framework floor (/healthz)", summary["floor_layers_ms"])]
    rows += [(page["name"], page["layers_ms"]) for page in summary["pages"]]
    for name, figures in rows:
        cells = " | ".join(f"{figures[layer]:.2f}" for layer in layers.LAYERS)
        lines.append(f"| {name} | {cells} | {sum(figures.values()):.2f} |")
    return "\n".join(lines)


def markdown(summary: dict, floor: dict, args) -> str:
    floor_cpu = f"{summary['floor_cpu_ms']:.2f} | {summary['floor_python_calls']:,}"
    if args.no_load:
        lines = [
            f"### {summary['size']:,} applications — in-process only, {args.repeat} requests per page",
            "",
            "| page | SQL queries | CPU ms / request | Python calls / request |",
            "| --- | ---: | ---: | ---: |",
            f"| framework floor (/healthz) | 0 | {floor_cpu} |",
        ]
        lines += [
            f"| {p['name']} | {p['queries']} | {p['cpu_ms']:.2f} | {p['python_calls']:,} |"
            for p in summary["pages"]
        ]
        return "\n".join(lines) + "\n\n" + layers_markdown(summary)
    server = f"gunicorn {args.workers} workers" + (f" ({args.gunicorn})" if args.gunicorn else "")
    lines = [
        f"### {summary['size']:,} applications — {server}, wrk {args.threads} threads / "
        f"{args.connections} connections, {args.seconds:g} s per page",
        "",
        "| page | requests/s | p50 ms | p95 ms | p99 ms | SQL queries | CPU ms / request (in-process) "
        "| Python calls / request | × floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| framework floor (/healthz) | {floor['rps']:.1f} | {floor['p50_us'] / 1000:.1f} | "
        f"{floor['p95_us'] / 1000:.1f} | {floor['p99_us'] / 1000:.1f} | 0 | {floor_cpu} | 1.00 |",
    ]
    for page in summary["pages"]:
        lines.append(
            f"| {page['name']} | {page['rps']:.1f} | {page['p50_ms']:.1f} | {page['p95_ms']:.1f} | "
            f"{page['p99_ms']:.1f} | {page['queries']} | {page['cpu_ms']:.2f} | {page['python_calls']:,} | "
            f"{page['floor_ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n\n" + layers_markdown(summary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="the small size only, shorter runs (< 5 minutes)"
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per page (default 10, quick 5)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per page (default 2, quick 1)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--gunicorn", default="", help='more gunicorn options, e.g. "--worker-class gthread --threads 2"'
    )
    parser.add_argument("--sizes", help="comma-separated sizes instead of the defaults")
    parser.add_argument("--only", help="only the pages whose name contains this (development)")
    parser.add_argument(
        "--repeat", type=int, default=200, help="in-process requests per page for the CPU figure"
    )
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions of each page")
    parser.add_argument(
        "--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"], help="the profile's order"
    )
    parser.add_argument("--no-load", action="store_true", help="the in-process figures only, no gunicorn/wrk")
    parser.add_argument("--sql", action="store_true", help="print the SQL of each page's request")
    args = parser.parse_args()
    args.seconds = args.seconds or (5 if args.quick else 10)
    args.warmup = args.warmup or (1 if args.quick else 2)
    sizes = (
        [int(value) for value in args.sizes.split(",")]
        if args.sizes
        else (QUICK_SIZES if args.quick else FULL_SIZES)
    )
    if min(sizes) < 4 + OFFICE_HISTORY + 1:
        sys.exit(f"sizes must be above {4 + OFFICE_HISTORY}")
    if shutil.which("wrk") is None and not args.no_load:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    scratch = database_config(database_url, prefix="nss_bench")

    started = time.monotonic()
    static_root = tempfile.mkdtemp(prefix="nss_bench_static_")
    scripts_dir = tempfile.mkdtemp(prefix="nss_bench_wrk_")
    scripts = {"get": str(Path(scripts_dir) / "get.lua"), "utb": str(Path(scripts_dir) / "utb.lua")}
    Path(scripts["get"]).write_text(LUA_COMMON)
    Path(scripts["utb"]).write_text(LUA_COMMON + LUA_UTB)
    env = production_env(database_url, redis_url, static_root)
    server_env = {**os.environ, **env}
    os.environ.update(env)
    # This process seeds through the real services: e-mails they queue are sent at once into memory instead of
    # being left in Redis for a Celery worker that is not running. It also loads the demo data, which refuses
    # production mode, and production refuses eager tasks: it runs with production off (the settings that matter
    # to the seeds and the query counts are set one by one above). gunicorn runs with `server_env`, without these.
    os.environ["DJANGO_PRODUCTION"] = "false"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

    import django

    django.setup()
    from django.core.management import call_command

    results, tables, failed = [], [], False
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
        for size in sizes:
            summary, floor, size_failed = measure_size(size, args, scratch, server_env, scripts)
            failed = failed or size_failed
            tables.append(markdown(summary, floor, args))
            results.append(summary)
            print("\n" + tables[-1] + "\n", flush=True)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(scripts_dir, ignore_errors=True)
    # Only a whole run replaces the recorded figures (README, "Performance"); a partial one prints its own.
    partial = bool(args.no_load or args.only or args.sizes or args.quick)
    if not partial:
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(
        "\n".join(
            [
                "## NSS portal benchmark",
                "",
                f"{os.cpu_count()} CPUs; wrk and PostgreSQL share the machine with gunicorn, so figures compare pages "
                "within one run better than runs with each other. × floor = the page's requests/s ÷ /healthz's.",
                "",
                *[table + "\n" for table in tables],
                f"{'not written (a partial run)' if partial else 'written'} {RESULTS.relative_to(ROOT)} "
                f"in {time.monotonic() - started:.0f} s",
            ]
        ),
        flush=True,
    )
    if failed:
        sys.exit("some page answered other than 200 under load (see above)")


if __name__ == "__main__":
    main()
