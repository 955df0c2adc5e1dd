"""The Celery app. Settings come from Django settings with the CELERY_ prefix (nss_portal/settings.py)."""

import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nss_portal.settings")

app = Celery("nss_portal")


@app.on_configure.connect
def _refuse_to_start_when_misconfigured(sender, **kwargs):
    """The worker and beat read the configuration first thing: a production process without its secrets stops
    there with one line (nss_portal/production.py). Web processes have loaded the settings long before."""
    from nss_portal.production import settings_or_exit

    settings_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Logging ----------------------------------------------------------------------------------------------------------
# The worker and beat log through the project's LOGGING (JSON lines in production) instead of Celery's own setup:
# connecting `setup_logging` tells Celery not to configure logging at all. The worker configures it already at
# `celeryd_init`, before its first checks, and Python warnings (Celery's SecurityWarning, deprecations) become log
# records of the `py.warnings` logger, so they are JSON lines too instead of raw text on stderr.


def _configure_logging() -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


@signals.celeryd_init.connect
def _project_logging_early(**kwargs):
    _configure_logging()


@signals.setup_logging.connect
def _project_logging(**kwargs):
    _configure_logging()


REQUEST_ID_HEADER = "nss_request_id"


@signals.before_task_publish.connect
def _carry_the_request_id(headers=None, **kwargs):
    """The request id of the web request (or task) that publishes travels with the message."""
    from nss_portal.request_id import current_request_id

    request_id = current_request_id()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


_TASK_CONTEXTS: dict[str, object] = {}


@signals.task_prerun.connect
def _enter_task_context(task_id=None, task=None, **kwargs):
    from nss_portal.request_id import task_context_enter

    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or (task.request.headers or {}).get(
        REQUEST_ID_HEADER
    )
    _TASK_CONTEXTS[task_id] = task_context_enter(request_id=request_id, task_id=task_id, task_name=task.name)


@signals.task_postrun.connect
def _leave_task_context(task_id=None, **kwargs):
    from nss_portal.request_id import task_context_exit

    tokens = _TASK_CONTEXTS.pop(task_id, None)
    if tokens is not None:
        task_context_exit(tokens)
