"""The worker logs through the project's logging config (JSON lines with DJANGO_LOG_FORMAT=json), and every line a
task writes carries the task's id and name and the request id of the web request that queued it
(nss_portal/celery.py, nss_portal/request_id.py)."""

import json
import logging

import pytest
from celery import shared_task

from devtools.processes import wait_until
from notifications import services
from notifications.models import Email, EmailStatus
from nss_portal import request_id
from nss_portal.request_id import JsonFormatter, RequestIdFilter

REQUEST_ID = "req-worker-logging-0001"


@shared_task(name="tests.log_something")
def log_something(text: str) -> str:
    logging.getLogger("tests.task").info("inside the task: %s", text)
    return text


class Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(JsonFormatter().format(record)))


@pytest.fixture
def captured():
    handler = Captured()
    logger = logging.getLogger("tests.task")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


def test_outside_a_task_and_a_request_the_fields_are_dashes(captured):
    logging.getLogger("tests.task").info("plain")
    assert captured.lines[-1] | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "tests.task",
        "request_id": "-",
        "task_id": "-",
        "task": "-",
        "message": "plain",
    }


def test_an_eager_task_logs_its_id_and_the_request_id_it_runs_under_and_resets_them(captured):
    token = request_id._request_id.set(REQUEST_ID)
    try:
        result = log_something.apply(args=["eager"], task_id="task-eager-1")
    finally:
        request_id._request_id.reset(token)
    assert result.successful() and result.result == "eager"
    [line] = [line for line in captured.lines if line["message"] == "inside the task: eager"]
    assert (line["request_id"], line["task_id"], line["task"]) == (
        REQUEST_ID,
        "task-eager-1",
        "tests.log_something",
    )
    logging.getLogger("tests.task").info("after")
    assert (captured.lines[-1]["task_id"], captured.lines[-1]["request_id"]) == ("-", "-")


def test_the_request_id_travels_in_the_message_headers():
    from nss_portal.celery import REQUEST_ID_HEADER, _carry_the_request_id

    headers: dict = {}
    token = request_id._request_id.set(REQUEST_ID)
    try:
        _carry_the_request_id(headers=headers)
    finally:
        request_id._request_id.reset(token)
    assert headers == {REQUEST_ID_HEADER: REQUEST_ID}
    nothing: dict = {}
    _carry_the_request_id(headers=nothing)  # no request: nothing is invented
    assert nothing == {}


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("require_postgres", "require_redis")
def test_a_real_worker_writes_json_lines_with_the_task_id_and_the_request_id_of_the_web_request(
    smtp_sink, celery_worker_proc
):
    worker = celery_worker_proc(smtp_port=smtp_sink.port, env={"DJANGO_LOG_FORMAT": "json"})
    token = request_id._request_id.set(REQUEST_ID)
    try:  # as in a web request: the row, then the publish on commit
        email = services.email_queue(kind="application_received", to="a@example.jp", context=RECEIPT_CONTEXT)
    finally:
        request_id._request_id.reset(token)
    smtp_sink.wait_for(1)
    wait_until(lambda: Email.objects.get(pk=email.pk).status == EmailStatus.SENT, timeout=30, message="sent")

    def sent_line():
        for line in worker.log().splitlines():
            if line.startswith("{") and f"email {email.pk}: sent" in line:
                return json.loads(line)
        return None

    line = wait_until(sent_line, timeout=15, message="the worker logged the send")
    assert line["request_id"] == REQUEST_ID
    assert line["task"] == "notifications.tasks.email_send_task"
    assert len(line["task_id"]) == 36  # a Celery task id (UUID)
    # Celery's own lines (the ready line, the task received) are JSON lines of the project's config too.
    logged = [json.loads(text) for text in worker.log().splitlines() if text.startswith("{")]
    assert any(entry["message"].endswith(" ready.") for entry in logged)
    assert any(entry["logger"].startswith("celery") for entry in logged)
    received = [entry for entry in logged if "Task notifications.tasks.email_send_task" in entry["message"]]
    assert received, "Celery's task lines go through the project's handler"
    # No warning on raw stderr: Celery's own (SecurityWarning when run as root, as on CI) is a JSON line too.
    assert "Warning:" not in "\n".join(text for text in worker.log().splitlines() if not text.startswith("{"))


RECEIPT_CONTEXT = {
    "reception_number": "1751795V",
    "applicant_name": "山田 太郎",
    "company_name": "デモ通関株式会社",
    "office_name": "東京事業所",
    "department": "",
    "items": [],
    "desired_start_date": "2026年12月9日",
    "login_url": "http://127.0.0.1:8000/login/",
}


@pytest.mark.usefixtures("require_redis")
def test_beat_writes_json_lines_through_the_project_config(tmp_path, settings):
    import os
    import signal
    import subprocess
    from pathlib import Path

    log_path = tmp_path / "beat.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(settings.BASE_DIR) / ".venv" / "bin" / "celery"),
                "-A",
                "nss_portal",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(tmp_path / "beat-schedule"),
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "REDIS_URL": settings.REDIS_URL, "DJANGO_LOG_FORMAT": "json"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def starting():
        for text in log_path.read_text(errors="replace").splitlines():
            if text.startswith("{") and "beat: Starting" in text:
                return json.loads(text)
        assert process.poll() is None, log_path.read_text(errors="replace")
        return None

    try:
        line = wait_until(starting, timeout=30, message="beat logged its start")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    assert (line["logger"], line["request_id"], line["task_id"]) == ("celery.beat", "-", "-")


def test_python_warnings_in_the_worker_become_log_lines_of_the_project_config():
    """Celery warns (SecurityWarning as root, deprecations) before and after its logging setup: both go through
    the project's handler once the worker has started to initialise."""
    import warnings

    from nss_portal.celery import _project_logging_early

    handler = Captured()
    try:
        _project_logging_early()
        logging.getLogger("py.warnings").addHandler(handler)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a worker warning", UserWarning, stacklevel=1)
    finally:
        logging.getLogger("py.warnings").removeHandler(handler)
        logging.captureWarnings(False)
    [line] = [line for line in handler.lines if "a worker warning" in line["message"]]
    assert (line["logger"], line["level"]) == ("py.warnings", "WARNING")
