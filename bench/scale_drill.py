"""Scale-out drill (`make scale-drill`), loopback only and bounded in time.

The deployment of SPEC §7's scale-out path, on this machine: two gunicorn instances of the portal (different ports,
the same settings) behind nginx (Debian's package) doing round-robin, two Celery workers and exactly one Celery
beat, all on one PostgreSQL database and one Redis. K journeys are driven through nginx's port only, from a few
threads, each the way people go through the screens (devtools/webclient.py: cookies, forms by their buttons' labels,
CSRF tokens from the pages):

1. the customer logs in and files 通関士IDの追加 (guidance → applicant → add-ids → confirm → complete);
2. a reviewer (logged in once per thread with password and TOTP, the code computed from the device's key) finds it
   in the queue, takes it (担当する) and approves it in two steps (承認内容を確認する, GET, then 承認する（IDを払い出す）,
   POST with the confirmation of that screen);
3. the customer opens the application's 詳細 and ID通知内容 and reads the issued 利用者ID and its initial password;
4. the start date comes: processes on one machine share the real clock, so the drill moves the issued ID's start
   date to today in the database (the browser journey moves the clock instead);
5. the broker logs in to the UTB gateway with the initial password (it leads to the password change: every business
   answers U0001 until then), changes it, registers a 通関士証票番号 with UTB (00000) and finds it in UTB01.

During the load one web instance is killed with SIGKILL (its whole process group: the gunicorn master and its
workers) and started again a few seconds later on the same port, and later one Celery worker is killed with SIGKILL
in the middle of an SMTP conversation (the sink holds conversations at RCPT for the moment of the kill, as
bench/drill.py does) and started again. nginx passes an idempotent request whose instance failed to the other one;
a POST that reached the killed instance fails to the client, who goes back to the page the form was on and, unless
it shows that the click took effect, clicks again — the portal makes that harmless (a second 申込内容を登録する files
nothing, a second approval is refused), and the database is checked afterwards for it.

    .venv/bin/python bench/scale_drill.py [--journeys 120] [--threads 6] [--timeout 480] [--keep]

Everything runs here: a scratch PostgreSQL database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
nss_scale; dropped and re-created, so its name must start with nss_scale), a redis-server on a free loopback port
(never 6379), an aiosmtpd sink in this process, and every process on 127.0.0.1 in a process group of its own; all
are stopped at the end, also on failure or interruption. The last line reads

    scale: R requests, F failed, J journeys completed of K, E e-mails delivered once of N, instances U/2 workers W/2

R: every HTTP request the journeys sent to nginx (redirects followed count each); F: those that got no answer or an
answer of 400 or more; J: journeys that reached the end, each checked in the database afterwards (one application,
approved, one 利用者ID with the changed password, the licence number registered once); N = 2 K e-mails (the receipt
and the approval e-mail of each application) and E of them reached the SMTP sink exactly once; U: instances that
answer /healthz at the end and answered requests through nginx since they last started; W: workers that answer a
Celery ping at the end. The exit code is 0 only when J = K, E = N, no e-mail arrived twice, U = W = 2, both
instances answered requests of every journey (the sessions are in the database, not in a process), and F is within
its bound: at most one request per driver thread (each has one request in flight at a time), and every failed
request was in flight when the instance was killed.
"""

import argparse
import atexit
import collections
import contextlib
import datetime
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.databases import database_config, drop_database, recreate_database  # noqa: E402
from devtools.nginx import (  # noqa: E402
    FAIL_TIMEOUT_SECONDS,
    JOURNEY_HEADER,
    Nginx,
    answered_per_instance,
    instances_per_journey,
    journeys_on_one_instance,
)
from devtools.processes import PrivateRedis, free_port, gunicorn_start, healthz, kill_group, wait_until  # noqa: E402
from devtools.smtp import SmtpSink  # noqa: E402
from devtools.webclient import FormError, Page, RequestFailed, WebClient  # noqa: E402
from devtools.workers import Workers, beat_start  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nss_scale"
QUEUE = "nss-scale"
INSTANCES = 2  # gunicorn instances behind nginx
WEB_WORKERS = (
    2  # gunicorn sync workers per instance (about 2 × cores per machine; here the two share 2 cores)
)
WORKERS = 2  # Celery workers (prefork, one child each)
CONTRACTS = 6  # journeys share contracts, so approvals race for 識別番号 in one contract
KILL_WEB_AT = 0.25  # fraction of the journeys finished when one web instance is killed …
WEB_DOWN_SECONDS = 6.0  # … and how long it stays down before it is started again
KILL_WORKER_AT = 0.55  # the same for one Celery worker
WORKER_DOWN_SECONDS = 4.0
# The outbox's timings, short so that what the killed worker held is sent again within the drill: the beat's sweeper
# every few seconds, a queued row not sent within GRACE re-queued, a SENDING row of a dead worker taken back after
# LEASE.
SWEEP_SECONDS, GRACE_SECONDS, LEASE_SECONDS = 3, 5, 10
EMAIL_TIMEOUT = 5
SETTLE_SECONDS = 60
STEP_TRIES = 3  # how often a person tries one step before giving up
# A failed request counts as in flight at the kill when its interval, widened by this, contains the kill instant.
IN_FLIGHT_SLACK_SECONDS = 0.5
CUSTOMER_PASSWORD = "scale-customer-pass-1"
STAFF_PASSWORD = "scale-staff-pass-1"
UTB_LOGIN, UTB_PASSWORD = "/utb/login/", "/utb/password/"

STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


# --- the processes -----------------------------------------------------------------------------------------------


class Stack:
    """Every process the drill starts, so that one call stops them all (finally, atexit, signals)."""

    def __init__(self, directory: Path, env: dict[str, str]):
        self.directory = directory
        self.env = env
        self.ports = [free_port() for _ in range(INSTANCES)]
        self.instances: list = [None] * INSTANCES
        self.started_at = [
            0.0
        ] * INSTANCES  # time.time() of each instance's last start (nginx logs epoch times)
        self.nginx = Nginx(directory=directory / "nginx", port=free_port(), upstreams=self.ports)
        # The workers and the beat log at INFO: their start ("ready.") and each task's outcome are read from the log.
        self.task_env = {**env, "DJANGO_LOG_LEVEL": "INFO"}
        self.workers = Workers(
            queue=QUEUE, log_dir=directory, env=self.task_env, name="scale", pool="prefork", ready_timeout=60
        )
        self.beat = None
        self._stopped = False

    def start_instance(self, index: int) -> None:
        self.instances[index] = gunicorn_start(
            port=self.ports[index],
            workers=WEB_WORKERS,
            env=self.env,
            timeout=60,
            log_path=self.directory / f"web-{index + 1}.log",
            new_session=True,
        )
        self.started_at[index] = time.time()

    def kill_instance(self, index: int) -> None:
        kill_group(self.instances[index], signal.SIGKILL)
        self.instances[index] = None

    def start(self) -> None:
        starting = [threading.Thread(target=self.start_instance, args=(i,)) for i in range(INSTANCES)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        if not all(self.instances):
            raise SystemExit(f"a web instance did not start (see {self.directory}/web-*.log)")
        say(f"gunicorn instances on 127.0.0.1:{', '.join(map(str, self.ports))} ({WEB_WORKERS} workers each)")
        self.nginx.start()
        say(f"nginx on 127.0.0.1:{self.nginx.port}, round-robin over both")
        for _ in range(WORKERS):
            self.workers.start()
        say(f"{WORKERS} Celery workers ready")
        self.beat = beat_start(log_dir=self.directory, env=self.task_env)
        say("Celery beat started")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            self.nginx.stop()
        for process in self.instances:
            with contextlib.suppress(Exception):
                kill_group(process, signal.SIGTERM)
        if self.beat is not None:
            with contextlib.suppress(Exception):
                self.beat.stop()
        with contextlib.suppress(Exception):
            self.workers.stop_all()


def stack_env(database_url: str, redis_url: str, smtp_port: int, static_root: Path) -> dict[str, str]:
    """What the web instances, the workers and the beat run with: production settings, except that the drill speaks
    plain HTTP on loopback where production has TLS in front (no redirect to HTTPS, cookies not marked Secure)."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nss_portal.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "DJANGO_DEBUG": "false",
        "DJANGO_PRODUCTION": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_BEHIND_PROXY": "true",
        "NSS_TRUSTED_PROXY_COUNT": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "NSS_BASE_URL": "https://nss.example",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "NSS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "WHITENOISE_USE_FINDERS": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
        "NSS_EMAIL_SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
        "NSS_EMAIL_SWEEP_GRACE_SECONDS": str(GRACE_SECONDS),
        "NSS_EMAIL_LEASE_SECONDS": str(LEASE_SECONDS),
        "NSS_EMAIL_RETRY_BASE_SECONDS": "1",
        "NSS_EMAIL_RETRY_MAX_SECONDS": "4",
    }


# --- seeds ---------------------------------------------------------------------------------------------------------


@dataclass
class Journey:
    index: int
    username: str
    email: str
    broker_name: str
    licence_number: str  # as typed (12-NNNN) …
    licence_registered: str  # … and as UTB registers it (the part after the hyphen)
    utb_password: str  # the broker's own password after the change
    application_id: int | None = None
    reception_number: str = ""
    naccs_user_id: str = ""
    steps: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    error: str = ""
    completed: bool = False

    @property
    def name(self) -> str:
        return f"j{self.index}"


def seed(journeys: int, threads: int) -> tuple[list[Journey], list[str]]:
    """Contracts with every processing method, one customer account per journey, one reviewer per thread (with a
    confirmed TOTP device). Passwords are hashed once and the hash shared: the logins cost what they cost."""
    from django.contrib.auth.hashers import make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applications.models import Contract, ProcessingMethod, User
    from applications.roles import REVIEWER
    from applications.services import staff_role_group_ensure

    methods = list(ProcessingMethod.objects.all())
    contracts = Contract.objects.bulk_create(
        Contract(
            user_code=f"{i + 1:02d}SCL", company_name=f"スケール通関{i + 1}株式会社", office_name="本社事業所"
        )
        for i in range(CONTRACTS)
    )
    for contract in contracts:
        contract.processing_methods.set(methods)
    customer_hash = make_password(CUSTOMER_PASSWORD)
    plans = [
        Journey(
            index=i,
            username=f"scale-customer-{i}",
            email=f"scale{i}@example.com",
            broker_name=f"通関 太郎{i}",
            licence_number=f"12-{1000 + i}",
            licence_registered=f"{1000 + i}",
            utb_password=f"NP{i:04d}Z",
        )
        for i in range(journeys)
    ]
    User.objects.bulk_create(
        User(
            username=plan.username,
            password=customer_hash,
            contract=contracts[plan.index % CONTRACTS],
            full_name="山田 太郎",
            department="通関部",
            phone="03-1234-5678",
            email=plan.email,
        )
        for plan in plans
    )
    staff_hash = make_password(STAFF_PASSWORD)
    group = staff_role_group_ensure(role=REVIEWER)
    staff = []
    for t in range(threads):
        user = User.objects.create(username=f"scale-reviewer-{t}", password=staff_hash, is_staff=True)
        user.groups.add(group)
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        staff.append(user.username)
    return plans, staff


def totp_code(username: str) -> str:
    """The staff member's next code: what the authenticator app shows now, or the one after it when this one was
    used already (a login whose answer was lost); waits for the app's next code when that is too far ahead."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    while True:
        device = TOTPDevice.objects.get(user__username=username)
        now_step = int((time.time() - device.t0) // device.step)
        wanted = max(now_step + device.drift, device.last_t + 1)
        if wanted <= now_step + device.drift + device.tolerance:
            code = totp(
                bytes.fromhex(device.key),
                step=device.step,
                t0=device.t0,
                digits=device.digits,
                drift=wanted - now_step,
            )
            return f"{code:0{device.digits}d}"
        time.sleep(1)


def start_date_arrives(application_id: int) -> None:
    """Stand-in for the days until the start date: the issued IDs (and the application) start today."""
    from applications import clock
    from applications.models import Application, NaccsUserId

    today = clock.today()
    NaccsUserId.objects.filter(issued_by_id=application_id).update(start_date=today)
    Application.objects.filter(pk=application_id).update(start_date=today)


# --- what a person does ----------------------------------------------------------------------------------------------


class JourneyError(Exception):
    pass


def expect(page: Page, *screens: str) -> Page:
    if page.screen not in screens:
        said = " ".join(
            node.text for node in page.main.iter() if "alert" in node.attrs.get("class", "").split()
        )
        raise JourneyError(
            f"expected screen {'/'.join(screens)}, got {page.screen or page.url!r} {said[:200]!r}"
        )
    return page


def open_page(journey: Journey, client: WebClient, path: str, *screens: str) -> Page:
    """Open a page; a person reloads one that did not come (a GET is safe to send again)."""
    for attempt in range(STEP_TRIES):
        try:
            page = client.get(path)
            return expect(page, *screens) if screens else page
        except RequestFailed as failure:
            journey.retried.append(f"GET {failure.path}")
            if attempt == STEP_TRIES - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def click(
    journey: Journey,
    client: WebClient,
    page: Page,
    button: str,
    fill: dict[str, str] | None = None,
    *,
    screens: tuple[str, ...],
    done=None,
    again=None,
) -> Page:
    """Click `button` on `page`. When no answer comes (or an error page), the person goes back to the page the form
    was on (a fresh copy, with fresh tokens): if `done(that page)` says the click took effect, they carry on from
    what the server shows; otherwise they click again. `again(page)` may give the page to click on instead (a login
    page after a lost session, say)."""
    fill_now = fill
    for attempt in range(STEP_TRIES):
        try:
            return expect(client.submit(page, button, fill_now), *screens)
        except RequestFailed as failure:
            journey.retried.append(f"{failure.method} {failure.path} ({button})")
            if attempt == STEP_TRIES - 1:
                raise
            time.sleep(0.5)
            page = open_page(journey, client, page.url)
            if done is not None:
                result = done(page)
                if result is not None:
                    return result
            if again is not None:
                page, fill_now = again(page, attempt + 1)
    raise AssertionError("unreachable")


def staff_login(journey_like: Journey, client: WebClient, username: str) -> None:
    page = open_page(journey_like, client, "/staff/login/", "staff-login")
    code_label = "確認コード（認証アプリの6桁）"

    def again(page, attempt):
        return page, {**fields, code_label: totp_code(username)}

    fields = {"ユーザーID": username, "パスワード": STAFF_PASSWORD}
    click(
        journey_like,
        client,
        page,
        "ログイン",
        {**fields, code_label: totp_code(username)},
        screens=("staff-queue",),
        done=lambda page: page if page.screen == "staff-queue" else None,
        again=again,
    )


def customer_files(journey: Journey, client: WebClient, desired: datetime.date) -> None:
    """Screens 1–7 (SPEC §3)."""
    page = open_page(journey, client, "/login/", "login")
    click(
        journey,
        client,
        page,
        "ログイン",
        {"ユーザーID": journey.username, "パスワード": CUSTOMER_PASSWORD},
        screens=("menu",),
        done=lambda page: page if page.screen == "menu" else None,
    )
    journey.steps.append("login")
    menu = open_page(journey, client, "/menu/", "menu")
    guidance = open_page(journey, client, menu.link("通関士IDの追加"), "guidance")
    # 通関士IDを追加する resumes this account's draft when there is one: clicking again starts nothing new.
    applicant = click(journey, client, guidance, "通関士IDを追加する", screens=("applicant",))
    add_ids = click(journey, client, applicant, "通関士用利用者IDの入力へ進む", screens=("add-ids",))
    journey.steps.append("applicant")

    def item_set(page: Page):
        rows = page.root.find_all("tr", data_item=None)
        return (
            page
            if page.screen == "add-ids" and any(journey.broker_name in row.text for row in rows)
            else None
        )

    add_ids = click(
        journey,
        client,
        add_ids,
        "設定する",
        {
            "利用開始希望日": desired.isoformat(),
            "処理方式": "インタラクティブ処理方式",
            "希望識別番号": "",
            "通関士氏名": journey.broker_name,
        },
        screens=("add-ids",),
        done=item_set,
    )
    if item_set(add_ids) is None:
        raise JourneyError(f"the ID is not in 申込情報 after 設定する: {add_ids.field('form-errors')}")
    confirm = click(journey, client, add_ids, "申込内容確認へ進む", screens=("confirm",))
    journey.steps.append("add-ids")
    # A second 申込内容を登録する of a filed draft leads to its completion screen and files nothing.
    complete = click(
        journey,
        client,
        confirm,
        "申込内容を登録する",
        screens=("complete",),
        done=lambda page: page if page.screen == "complete" else None,
    )
    journey.reception_number = complete.field("reception_number")
    journey.application_id = int(complete.url.strip("/").split("/")[-2])
    if not journey.reception_number:
        raise JourneyError("no reception number on the completion screen")
    journey.steps.append("filed")


def reviewer_approves(journey: Journey, client: WebClient) -> None:
    """The queue, 担当する, 承認内容を確認する → 承認する（IDを払い出す） (SPEC §4, §8)."""
    number = journey.reception_number
    queue = open_page(journey, client, f"/staff/?q={number}", "staff-queue")
    row = queue.root.first("tr", data_reception_number=number)
    if row is None:
        raise JourneyError(f"{number} is not in the staff queue")
    link = next((a for a in row.find_all("a") if a.text == number), None)
    if link is None:
        raise JourneyError(f"no link {number} in its queue row")
    application = open_page(journey, client, link.attrs["href"], "staff-application")

    def status_is(label):
        return lambda page: (
            page if page.screen == "staff-application" and page.field("status") == label else None
        )

    application = click(
        journey, client, application, "担当する", screens=("staff-application",), done=status_is("内容確認中")
    )
    if application.field("status") != "内容確認中":
        raise JourneyError(f"after 担当する the status is {application.field('status')!r}")
    journey.steps.append("taken")
    confirmation = click(
        journey, client, application, "承認内容を確認する", screens=("staff-approve-confirm",)
    )
    # Reopening the confirmation of an application approved meanwhile leads back to its page (審査終了).
    approved = click(
        journey,
        client,
        confirmation,
        "承認する（IDを払い出す）",
        screens=("staff-application",),
        done=status_is("審査終了"),
    )
    if approved.field("status") != "審査終了":
        raise JourneyError(f"after 承認する the status is {approved.field('status')!r}")
    journey.steps.append("approved")


def customer_reads_id_notice(journey: Journey, client: WebClient) -> str:
    """申込詳細 and ID通知内容 (screens 9, 10): the issued 利用者ID and its initial password."""
    detail = open_page(journey, client, f"/applications/{journey.application_id}/", "application-detail")
    if detail.field("status") != "審査終了":
        raise JourneyError(f"the customer reads {detail.field('status')!r}")
    notice = open_page(journey, client, detail.link("ID通知内容"), "id-notice")
    rows = notice.root.find_all("tr", data_issued_id=None)
    if len(rows) != 1:
        raise JourneyError(f"{len(rows)} IDs on the ID notice")
    journey.naccs_user_id = notice.field("naccs_user_id", rows[0])
    initial = notice.field("initial_password", rows[0])
    if not journey.naccs_user_id or not initial:
        raise JourneyError("the ID notice shows no 利用者ID or no initial password")
    journey.steps.append("id-notice")
    return initial


def broker_uses_utb(journey: Journey, client: WebClient, initial: str) -> None:
    """UTB gateway (SPEC §6): login with the initial password → password change → UTB → UTB01."""
    user_id = journey.naccs_user_id

    def log_in(password: str) -> Page:
        page = open_page(journey, client, UTB_LOGIN, "utb-login")
        return click(
            journey,
            client,
            page,
            "ログイン",
            {"利用者ID": user_id, "パスワード": password},
            screens=("utb-password", "utb-menu", "utb-login"),
            done=lambda page: page if page.screen in ("utb-password", "utb-menu") else None,
        )

    page = log_in(initial)
    if page.screen != "utb-password" or "初期パスワードのままです" not in page.main.text:
        raise JourneyError(
            f"the login with the initial password led to {page.screen!r}, not the password change"
        )
    journey.steps.append("utb-login")
    new = journey.utb_password

    def changed(page: Page):
        # The change rebinds the UTB session: when its answer was lost, the session may be gone with it.
        if page.screen == "utb-password" and "初期パスワードのままです" not in page.main.text:
            return open_page(journey, client, "/utb/", "utb-menu")
        if page.screen == "utb-login" and log_in(new).screen == "utb-menu":
            return open_page(journey, client, "/utb/", "utb-menu")
        return None

    def again(page: Page, attempt: int):
        if page.screen != "utb-password":
            page = log_in(initial)
        return page, fields

    fields = {"現在のパスワード": initial, "新しいパスワード": new, "新しいパスワード（確認）": new}
    menu = click(journey, client, page, "変更する", fields, screens=("utb-menu",), done=changed, again=again)
    journey.steps.append("utb-password")
    utb = open_page(journey, client, menu.link("UTB 通関士証票番号登録"), "utb")

    def registered(page: Page):
        listed = open_page(journey, client, "/utb/utb01/", "utb01")
        row = listed.root.first("tr", data_user_id=user_id)
        if row is not None and listed.field("licence_number", row) == journey.licence_registered:
            return open_page(journey, client, "/utb/utb/", "utb")
        return None

    result = click(
        journey,
        client,
        utb,
        "送信",
        {"利用者ID": user_id, "通関士証票番号": journey.licence_number},
        screens=("utb",),
        done=registered,
    )
    # The answer to 送信 (unless it was lost and UTB01 showed the number registered: `registered`).
    box = result.root.first(id="utb-result")
    code = box.first(data_result_code=None) if box is not None else None
    if box is not None and (code is None or code.text != "00000"):
        raise JourneyError(f"UTB answered {box.text}")
    journey.steps.append("utb")
    listed = open_page(journey, client, result.link("UTB01"), "utb01")
    row = listed.root.first("tr", data_user_id=user_id)
    if row is None or listed.field("licence_number", row) != journey.licence_registered:
        raise JourneyError(f"UTB01 does not list {user_id} with {journey.licence_registered}")
    journey.steps.append("utb01")


# --- the load and the faults ----------------------------------------------------------------------------------------


@dataclass
class Load:
    journeys: list[Journey]
    staff: list[str]
    port: int
    deadline: float
    clients: list[WebClient] = field(default_factory=list)
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, journey: str) -> WebClient:
        client = WebClient("127.0.0.1", self.port, headers={JOURNEY_HEADER: journey})
        with self.lock:
            self.clients.append(client)
        return client


def run_load(load: Load, desired: datetime.date) -> None:
    from django.db import connections

    pending = collections.deque(load.journeys)

    def work(reviewer: str) -> None:
        try:
            staff = load.client(f"staff-{reviewer}")
            staff_login(Journey(-1, reviewer, "", "", "", "", ""), staff, reviewer)
            while time.monotonic() < load.deadline:
                with load.lock:
                    if not pending:
                        return
                    journey = pending.popleft()
                customer = load.client(journey.name)
                staff.headers[JOURNEY_HEADER] = journey.name
                try:
                    customer_files(journey, customer, desired)
                    reviewer_approves(journey, staff)
                    initial = customer_reads_id_notice(journey, customer)
                    start_date_arrives(journey.application_id)
                    broker_uses_utb(journey, load.client(journey.name), initial)
                    journey.completed = True
                except (RequestFailed, JourneyError, FormError) as error:
                    journey.error = f"after {journey.steps[-1] if journey.steps else 'nothing'}: {error}"
                    say(f"journey {journey.name} failed {journey.error}")
                with load.lock:
                    load.finished += 1
        except (RequestFailed, JourneyError, FormError) as error:
            say(f"reviewer {reviewer} could not log in: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(reviewer,), daemon=True) for reviewer in load.staff]
    for thread in threads:
        thread.start()
    reported = 0
    step = max(1, len(load.journeys) // 6)
    while any(thread.is_alive() for thread in threads) and time.monotonic() < load.deadline + 5:
        time.sleep(0.5)
        if load.finished // step > reported:
            reported = load.finished // step
            completed = sum(1 for journey in load.journeys if journey.completed)
            say(f"journeys finished {load.finished}/{len(load.journeys)} ({completed} completed)")
    for thread in threads:
        thread.join(max(0.0, load.deadline + 60 - time.monotonic()))


def run_faults(stack: Stack, sink: SmtpSink, load: Load, timeline: list, stop: threading.Event) -> None:
    """One web instance SIGKILLed and started again, later one Celery worker (mid-conversation) the same."""
    total = len(load.journeys)

    def reach(fraction: float) -> bool:
        while load.finished < fraction * total and not stop.is_set():
            time.sleep(0.05)
        return not stop.is_set()

    if not reach(KILL_WEB_AT):
        return
    victim = 0
    killed_at, killed_epoch = time.monotonic(), time.time()
    stack.kill_instance(victim)
    timeline.append(("web instance killed", killed_at, killed_epoch))
    say(
        f"FAULT web instance 1 (127.0.0.1:{stack.ports[victim]}) SIGKILLed with its workers at {load.finished}/{total}"
    )
    time.sleep(WEB_DOWN_SECONDS)
    stack.start_instance(victim)
    timeline.append(("web instance started", time.monotonic(), time.time()))
    say("FAULT web instance 1 started again and answers /healthz")

    if not reach(KILL_WORKER_AT):
        return
    # Hold every SMTP conversation at RCPT; once one is held (bounded wait), kill a worker in the middle of it.
    sink.hold.set()
    try:
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: sink.held > 0, timeout=5, interval=0.02)
        mid = sink.held > 0
        time.sleep(0.5)
        killed_at = time.monotonic()
        stack.workers.kill()
    finally:
        sink.hold.clear()
    timeline.append(("worker killed", killed_at, time.time()))
    say(
        f"FAULT Celery worker SIGKILLed {'mid-conversation' if mid else 'while idle'} at {load.finished}/{total}"
    )
    time.sleep(WORKER_DOWN_SECONDS)
    worker = stack.workers.start()
    timeline.append(("worker started", time.monotonic(), time.time()))
    say(f"FAULT Celery worker {worker.name} started and ready")


def settle(deadline: float) -> None:
    """Wait until no e-mail row is queued or being sent (a dead worker's SENDING row comes back after its lease)."""
    from notifications.models import Email, EmailStatus

    last = None
    while time.monotonic() < deadline:
        waiting = Email.objects.filter(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]).count()
        if waiting != last:
            say(f"settling: {waiting} e-mail rows queued or sending")
            last = waiting
        if waiting == 0:
            return
        time.sleep(1)
    say("settle deadline reached")


# --- what it shows -----------------------------------------------------------------------------------------------


def failures_explained(failed: list, kills: list[float], threads: int) -> tuple[bool, list[str]]:
    """F's bound: at most one failed request per driver thread, each in flight (its interval, widened by the slack,
    contains the instant) when a web instance was killed."""
    notes = []
    unexplained = [
        exchange
        for exchange in failed
        if not any(exchange.in_flight_at(kill, slack=IN_FLIGHT_SLACK_SECONDS) for kill in kills)
    ]
    for exchange in unexplained:
        notes.append(
            f"failed request NOT in flight at a kill: {exchange.method} {exchange.path} "
            f"{exchange.status or exchange.error} at {exchange.at - STARTED:.1f}s"
        )
    return len(failed) <= threads and not unexplained, notes


def evaluate(load: Load, sink: SmtpSink) -> tuple[dict, list[str]]:
    from applications.models import Application, ApplicationStatus, NaccsUserId, User
    from notifications.models import Email
    from utb_gateway.models import LicenceRegistration

    notes: list[str] = []
    completed = filed_twice = 0
    users = dict(User.objects.filter(username__startswith="scale-customer-").values_list("username", "pk"))
    numbers = collections.Counter(
        Application.objects.exclude(reception_number=None).values_list("reception_number", flat=True)
    )
    for number, count in numbers.items():
        if count > 1:
            notes.append(f"reception number {number} given {count}×")
    for journey in load.journeys:
        problem = ""
        applications = list(Application.objects.filter(created_by_id=users[journey.username]))
        filed = [application for application in applications if application.status != ApplicationStatus.DRAFT]
        if len(filed) > 1:
            filed_twice += 1
            notes.append(f"journey {journey.name}: {len(filed)} applications filed (one click filed twice)")
        if not journey.completed:
            problem = f"journey {journey.name} did not complete ({journey.error or 'not reached'})"
        elif len(applications) != 1:
            problem = f"journey {journey.name}: {len(applications)} applications (one filed twice?)"
        else:
            application = applications[0]
            ids = list(NaccsUserId.objects.filter(issued_by=application))
            registrations = LicenceRegistration.objects.filter(naccs_user_id__in=ids, is_current=True)
            if (
                application.status != ApplicationStatus.APPROVED
                or application.reception_number != journey.reception_number
            ):
                problem = f"journey {journey.name}: application {application.pk} is {application.status}"
            elif (
                len(ids) != 1
                or ids[0].naccs_user_id != journey.naccs_user_id
                or ids[0].password_changed_at is None
            ):
                problem = f"journey {journey.name}: issued IDs {[i.naccs_user_id for i in ids]}, password not changed?"
            elif [r.licence_number for r in registrations] != [journey.licence_registered]:
                problem = (
                    f"journey {journey.name}: licence numbers {[r.licence_number for r in registrations]}"
                )
        if problem:
            notes.append(problem)
        else:
            completed += 1

    # E-mails: the receipt and the approval e-mail of every journey's application, each one outbox row whose
    # Message-ID reached the sink exactly once.
    application_ids = [journey.application_id for journey in load.journeys if journey.application_id]
    rows = list(Email.objects.filter(topic="application", topic_id__in=application_ids).values())
    delivered = collections.Counter(mail.message_id for mail in sink.received())
    by_key = collections.defaultdict(list)
    for row in rows:
        by_key[(row["topic_id"], row["kind"])].append(row)
    expected = 2 * len(load.journeys)
    once = twice = 0
    for journey in load.journeys:
        for kind in ("application_received", "application_approved"):
            key_rows = by_key.get((journey.application_id, kind), [])
            counts = [delivered.get(row["message_id"], 0) for row in key_rows]
            if len(key_rows) == 1 and counts == [1]:
                once += 1
            else:
                notes.append(f"journey {journey.name}: {kind} rows {len(key_rows)}, delivered {counts}")
            twice += max(0, sum(counts) - 1)  # the same e-mail again, whether from one row or from a second
    known = {row["message_id"] for row in rows}
    strays = sum(count for message_id, count in delivered.items() if message_id not in known)
    if strays:
        notes.append(f"{strays} deliveries of e-mails that are not a journey's receipt or approval")
    others = Email.objects.exclude(topic="application", topic_id__in=application_ids).count()
    if others:
        notes.append(f"{others} other e-mail rows")
    counts = {
        "J": completed,
        "E": once,
        "N": expected,
        "twice": twice,
        "strays": strays,
        "filed_twice": filed_twice,
    }
    return counts, notes


def workers_answering(names: list[str]) -> int:
    from nss_portal.celery import app

    replies = app.control.ping(destination=names, timeout=3) or []
    answered = {name for reply in replies for name in reply}
    return sum(1 for name in names if name in answered)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=120)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=480, help="bound of the whole run, in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and the logs")
    args = parser.parse_args()
    deadline = STARTED + args.timeout

    def on_signal(signum, frame):
        raise SystemExit(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(
        int(args.timeout) + 30
    )  # the last resort of the bound: the finally below still stops everything

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    config = database_config(url, prefix="nss_scale")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        raise SystemExit(
            "nginx is not installed (Debian: apt-get install nginx; `make scale-drill` does it as root)"
        )
    redis_port = free_port()
    while redis_port == 6379:
        redis_port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="nss-scale-"))
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    sink = SmtpSink()
    env = stack_env(url, redis_url, sink.port, directory / "static")
    # This process seeds, reads the outcome and pings the workers: the same database and broker, not production.
    os.environ.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_STATICFILES_STORAGE": env["DJANGO_STATICFILES_STORAGE"],
            "DJANGO_STATIC_ROOT": env["DJANGO_STATIC_ROOT"],
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("CELERY_BROKER_WRITE_URL", None)
    say(
        f"scale drill: {args.journeys} journeys, {args.threads} threads, database {config['NAME']}, logs in {directory}"
    )

    redis_server = PrivateRedis(directory, port=redis_port)
    stack = Stack(directory, env)

    def stop_processes() -> None:
        """Idempotent: from the finally below, and at exit should anything get past it."""
        stack.stop()
        with contextlib.suppress(Exception):
            redis_server.stop()
        with contextlib.suppress(Exception):
            sink.stop()

    atexit.register(stop_processes)
    stop = threading.Event()
    database_created = ok = False
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from applications import clock, rules
        from utb_gateway.services import utb_hours_open

        now = clock.now()
        if not (utb_hours_open(now) and utb_hours_open(now + datetime.timedelta(seconds=args.timeout))):
            raise SystemExit(
                "the journeys end at the UTB gateway, which is open on weekdays 00:00–23:00 Japan time: "
                f"it is {now:%a %H:%M} there now (run the drill within UTB hours)"
            )
        recreate_database(config)
        database_created = True
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        say("database migrated, static files collected")
        redis_server.start()
        say(f"redis-server on 127.0.0.1:{redis_port}")
        sink.start()
        say(f"SMTP sink on 127.0.0.1:{sink.port}")
        journeys, staff = seed(args.journeys, args.threads)
        say(f"seeded {CONTRACTS} contracts, {len(journeys)} customers, {len(staff)} reviewers with TOTP")
        stack.start()

        load = Load(
            journeys=journeys, staff=staff, port=stack.nginx.port, deadline=deadline - SETTLE_SECONDS - 30
        )
        timeline: list = []
        faults = threading.Thread(target=run_faults, args=(stack, sink, load, timeline, stop), daemon=True)
        faults.start()
        load_started = time.monotonic()
        run_load(load, rules.earliest_start_date(clock.today()))
        load_seconds = time.monotonic() - load_started
        say(f"load done in {load_seconds:.1f} s")
        stop.set()
        faults.join(WEB_DOWN_SECONDS + WORKER_DOWN_SECONDS + 70)
        settle(min(time.monotonic() + SETTLE_SECONDS, deadline - 10))
        time.sleep(1)  # a late duplicate, if any, still shows

        counts, notes = evaluate(load, sink)
        exchanges = [exchange for client in load.clients for exchange in client.exchanges]
        failed = [exchange for exchange in exchanges if exchange.failed]
        kills = [at for label, at, _ in timeline if label == "web instance killed"]
        bounded, failure_notes = failures_explained(failed, kills, args.threads)
        records = stack.nginx.access_log()
        answered = answered_per_instance(records)
        per_journey = instances_per_journey(records)
        addresses = [f"127.0.0.1:{port}" for port in stack.ports]
        both = sum(1 for journey in journeys if per_journey.get(journey.name, set()) >= set(addresses))
        # While instance 1 was down (until nginx tried it again after its restart) a journey could see only one.
        epochs = {label: epoch for label, _, epoch in timeline}
        outage = []
        if "web instance killed" in epochs:
            back = epochs.get("web instance started", time.time())
            outage.append((epochs["web instance killed"], back + FAIL_TIMEOUT_SECONDS + 1))
        names = {journey.name for journey in journeys}  # not the reviewers' logins before their first journey
        one_instance = [name for name in journeys_on_one_instance(records, outages=outage) if name in names]
        up = sum(
            1
            for index, port in enumerate(stack.ports)
            if healthz(port)
            and any(r.answered_by == addresses[index] and r.at >= stack.started_at[index] for r in records)
        )
        alive = [worker.name for worker in stack.workers.all if worker.process.poll() is None]
        hostname = socket.gethostname()
        workers_up = workers_answering([f"{name}@{hostname}" for name in alive])

        print()
        print("timeline:")
        for label, at, _epoch in timeline:
            print(f"  {label:22} at {at - STARTED:6.1f}s")
        print(f"load: {len(journeys)} journeys in {load_seconds:.1f} s from {args.threads} threads")
        for index, address in enumerate(addresses):
            retried_here = sum(1 for r in records if r.retried and r.upstreams[0] == address)
            print(
                f"  instance {index + 1} ({address}): answered {answered.get(address, 0)} requests through nginx, "
                f"{retried_here} passed on to the other after it failed"
            )
        nginx_failed = sum(1 for r in records if not r.upstreams or r.status >= 500)
        print(
            f"  nginx logged {len(records)} requests ({nginx_failed} answered 5xx or by nginx itself); "
            f"{both} of {len(journeys)} journeys were answered by both instances, "
            f"{len(one_instance)} by one only outside the outage {one_instance[:5]}"
        )
        for exchange in failed:
            print(
                f"  failed: {exchange.method} {exchange.path} → {exchange.status or exchange.error} "
                f"at {exchange.at - STARTED:.1f}s ({exchange.seconds:.2f} s)"
            )
        retried = [(journey.name, step) for journey in journeys for step in journey.retried]
        for name, step in retried:
            print(f"  {name} went back and tried again: {step}")
        print(
            f"  sink: {len(sink.received())} deliveries; workers started {stack.workers.count}, alive {len(alive)}; "
            f"beat {'alive' if stack.beat and stack.beat.process.poll() is None else 'NOT alive'}"
        )
        for note in (notes + failure_notes)[:40]:
            print(f"  {note}")
        print(f"runtime: {time.monotonic() - STARTED:.1f} s")
        ok = (
            counts["J"] == len(journeys)
            and counts["E"] == counts["N"]
            and counts["twice"] == 0
            and counts["strays"] == 0
            and counts["filed_twice"] == 0
            and up == INSTANCES
            and workers_up == WORKERS
            and not one_instance
            and bounded
        )
        print(
            f"scale: {len(exchanges)} requests, {len(failed)} failed, {counts['J']} journeys completed of "
            f"{len(journeys)}, {counts['E']} e-mails delivered once of {counts['N']}, instances {up}/{INSTANCES} "
            f"workers {workers_up}/{WORKERS}"
        )
        return 0 if ok else 1
    finally:
        signal.alarm(0)
        stop.set()
        stop_processes()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if database_created and not args.keep:
            with contextlib.suppress(Exception):
                drop_database(config)
        if ok and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)  # the logs stay when it failed
        elif not ok:
            print(f"logs kept in {directory}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
