"""Fixtures of the outbox tests (SPEC §5): the SMTP sink of devtools/smtp.py (aiosmtpd on 127.0.0.1, recording
only messages whose DATA was fully received and answered), a real Celery worker (devtools/workers.py) as a
subprocess on a queue of its own, a private redis-server, and the staff / customer helpers the screens need."""

import contextlib
import os
import uuid
from urllib.parse import quote

import pytest
from django.db import connection

from devtools.processes import PrivateRedis
from devtools.smtp import SmtpSink
from devtools.workers import Workers

# --- SMTP sink ----------------------------------------------------------------------------------------------


@pytest.fixture
def smtp_sink_factory():
    sinks = []

    def start(*, delay: float = 0.0) -> SmtpSink:
        sink = SmtpSink(delay=delay).start()
        sinks.append(sink)
        return sink

    yield start
    for sink in sinks:
        sink.stop()


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
    workers = Workers(
        queue=queue,
        log_dir=tmp_path,
        env={
            **os.environ,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
        },
        ready_timeout=45,
    )

    def start(*, smtp_port: int, redis_url: str | None = None, beat: bool = False, env: dict | None = None):
        broker = redis_url or settings.REDIS_URL
        return workers.start(
            env={
                "DATABASE_URL": test_database_url(),
                "REDIS_URL": broker,
                "CELERY_BROKER_URL": broker,
                "EMAIL_PORT": str(smtp_port),
                **(env or {}),
            },
            beat=beat,
        )

    yield start

    workers.stop_all()
    for worker in workers.all:
        print(f"\n===== log of worker {worker.name} (exit {worker.process.returncode}) =====\n{worker.log()}")
    app.conf.task_default_queue = previous_queue
    app.amqp.__dict__.pop("default_queue", None)
    with contextlib.suppress(Exception):
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)


# --- people and screens -------------------------------------------------------------------------------------------
