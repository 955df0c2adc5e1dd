"""A request id on every request and every log line it causes: taken from X-Request-ID when a proxy set a sane one,
otherwise made here; returned in the response header so a user's report can be matched to the logs.

Celery tasks carry it on (nss_portal/celery.py): the request id current when a task is published travels in the
message's headers, and while the task runs its log lines carry that request id and the task's own id and name."""

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# (task id, task name) of the Celery task running in this context.
_task: ContextVar[tuple[str, str]] = ContextVar("task", default=("-", "-"))
# A proxy's id (nginx's $request_id is 32 hex digits, a UUID has hyphens): 8–64 characters of letters, digits and
# . _ -, starting with a letter or digit. Anything else (log-injection attempts, huge values) is replaced.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}", re.ASCII)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def current_request_id() -> str:
    return _request_id.get()


def task_context_enter(*, request_id: str | None, task_id: str, task_name: str):
    """Inside a task: its id and name, and the request id it was published with (kept as it is when none came
    with it, as in eager mode, where the task runs inside the request). Returns the tokens for `task_context_exit`."""
    request_token = _request_id.set(request_id) if request_id and _SANE.fullmatch(request_id) else None
    return request_token, _task.set((task_id or "-", task_name or "-"))


def task_context_exit(tokens) -> None:
    request_token, task_token = tokens
    _task.reset(task_token)
    if request_token is not None:
        _request_id.reset(request_token)


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        record.task_id, record.task = _task.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, task id and name, message (and the exception)."""

    def format(self, record):
        import json

        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "task_id": getattr(record, "task_id", "-"),
            "task": getattr(record, "task", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
