"""Fixtures of the outbox tests (SPEC §5): an SMTP sink (aiosmtpd on 127.0.0.1) that records only messages whose
DATA was fully received and answered, a real Celery worker as a subprocess on a queue of its own, a private
redis-server, and the staff / customer helpers the screens need."""

import asyncio
import contextlib
import email
import email.policy
import os
import signal
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from bench.processes import PrivateRedis, free_port, wait_until

WAIT_SECONDS = 60


# --- SMTP sink ----------------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    rcpt_tos: list[str]
    mail_from: str
    message: email.message.EmailMessage
    subject: str
    message_id: str
    text: str
    html: str


@dataclass
class SmtpSink:
    """Records a message only once its DATA was fully received and, after `delay` seconds, the client is still
    connected to receive the 250 — a client that died before that has not delivered the message."""

    delay: float = 0.0
    port: int = 0
    # Replies to give, in turn, to RCPT TO of an address before it is accepted ("550 …" forever, "451 …" once).
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    # The reply to the DATA instead of 250 (e.g. "554 5.7.1 rejected"), nothing recorded.
    data_reply: str = ""
    # After the 250, cut the connection at the client's QUIT instead of answering it.
    drop_at_quit: bool = False
    rcpt_seen: list[str] = field(default_factory=list)
    messages: list[ReceivedMail] = field(default_factory=list)
    data_started: threading.Event = field(default_factory=threading.Event)
    data_seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.rcpt_seen.append(address)
            replies = self.rcpt_replies.get(address) or []
            reply = replies[0] if replies else ""
            if reply and not reply.startswith("5"):
                replies.pop(0)  # a temporary refusal is given once; a permanent one every time
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        if self.drop_at_quit:
            server.transport.abort()
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_seen += 1
        self.data_started.set()
        if self.data_reply:
            return self.data_reply
        if self.delay:
            # Cancelled by aiosmtpd when the client goes away meanwhile: nothing is recorded then.
            await asyncio.sleep(self.delay)
        if server.transport is None or server.transport.is_closing():
            return "421 client gone"
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        received = ReceivedMail(
            rcpt_tos=list(envelope.rcpt_tos),
            mail_from=envelope.mail_from,
            message=message,
            # A long encoded Subject is folded right after the colon; readers unfold and strip that space.
            subject=str(message["Subject"]).strip(),
            message_id=str(message["Message-ID"]).strip(),
            text=text_part.get_content() if text_part is not None else "",
            html=html_part.get_content() if html_part is not None else "",
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, *, timeout: float = WAIT_SECONDS) -> list[ReceivedMail]:
        """Wait until at least `count` messages arrived; returns all of them."""
        wait_until(
            lambda: len(self.received()) >= count,
            timeout=timeout,
            message=f"{count} message(s) at the SMTP sink, got {len(self.received())}",
        )
        return self.received()


@pytest.fixture
def smtp_sink_factory():
    controllers = []

    def start(*, delay: float = 0.0) -> SmtpSink:
        sink = SmtpSink(delay=delay, port=free_port())
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ready_timeout=10)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_sink(smtp_sink_factory) -> SmtpSink:
    return smtp_sink_factory()


# --- a private redis-server (never the shared one) ----------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


def use_broker(url: str) -> None:
    """Point this process's Celery app at `url`, dropping the pooled connections to the previous broker."""
    from kombu import pools

    from nss_portal.celery import app

    # kombu keeps its pools in process-wide registries keyed by connection: close and forget them all, or a
    # closed pool would be handed out again.
    pools.reset()
    app.conf.broker_url = url
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None


# --- a real Celery worker --------------------------------------------------------------------------------------


def test_database_url() -> str:
    """The URL of the TEST database this process uses, for the worker."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{db['NAME']}"


test_database_url.__test__ = False  # not a test, despite its name


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path, name: str):
        self.process = process
        self.log_path = log_path
        self.name = name

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing runs any shutdown code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def celery_worker_proc(tmp_path, settings):
    """Start real workers (`celery -A nss_portal worker -P solo`) consuming a queue of this test alone; this
    process publishes to that queue for the length of the test. Stopped at teardown, their log printed (pytest
    shows it when the test failed)."""
    from nss_portal.celery import app

    queue = f"nss-test-{uuid.uuid4().hex[:12]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    app.amqp.__dict__.pop("default_queue", None)
    workers: list[Worker] = []

    def start(*, smtp_port: int, redis_url: str | None = None, beat: bool = False, env: dict | None = None):
        broker = redis_url or settings.REDIS_URL
        name = f"{queue}-{len(workers)}"
        log_path = tmp_path / f"{name}.log"
        command = [
            str(Path(settings.BASE_DIR) / ".venv" / "bin" / "celery"),
            "-A",
            "nss_portal",
            "worker",
            "-P",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "-n",
            f"{name}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ]
        if beat:
            command += ["-B", "-s", str(tmp_path / f"{name}-beat-schedule")]
        worker_env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        log = open(log_path, "wb")  # noqa: SIM115 - closed once the worker is started (the child keeps its copy)
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        worker = Worker(process, log_path, name)
        workers.append(worker)

        def ready():
            if process.poll() is not None:
                raise AssertionError(f"worker exited with {process.returncode}:\n{worker.log()}")
            return " ready." in worker.log()

        wait_until(ready, timeout=45, message=f"worker {name} ready")
        return worker

    yield start

    for worker in workers:
        worker.stop()
    for worker in workers:
        print(f"\n===== log of worker {worker.name} (exit {worker.process.returncode}) =====\n{worker.log()}")
    app.conf.task_default_queue = previous_queue
    app.amqp.__dict__.pop("default_queue", None)
    with contextlib.suppress(Exception):
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)


# --- people and screens -------------------------------------------------------------------------------------------
