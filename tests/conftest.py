"""Shared fixtures. Services the suite needs (PostgreSQL, Redis, Chromium, WeasyPrint's libraries) are checked here:
locally a test that needs a missing one is skipped with the reason; in CI (CI=true) it fails instead, so CI can
never pass by skipping."""

import functools
import os

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from applications import clock, rules
from tests.factories import (
    FROZEN_AT,
    ContractFactory,
    CustomerFactory,
    _reception_numbers_exhaust,
    otp_login,
    staff_with_device,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# One hypothesis profile for the whole suite: no per-example deadline (a loaded machine or `-n 2` makes timing
# meaningless; speed belongs in bench/), no example database on disk, and function-scoped fixtures allowed (each
# example of a database test runs in the test's transaction). Tests set only how many examples they want.
hypothesis_settings.register_profile(
    "nss",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.load_profile("nss")


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def require_postgres():
    if connection.vendor != "postgresql":
        _missing("this test needs PostgreSQL: set DATABASE_URL=postgres://…")


@functools.cache
def pdf_unavailable() -> str | None:
    """Why this machine cannot draw the ID notice's PDF (WeasyPrint's system libraries or a Japanese font missing:
    `make pdf` installs them), or None. Asked once per session by drawing a line of Japanese."""
    from applications import pdf

    try:
        pdf.html_to_pdf('<html lang="ja"><p>通関士</p></html>', stylesheet="css/id_notice_pdf.css")
    except pdf.PdfUnavailable as error:
        return f"this test draws a real PDF, which needs WeasyPrint's libraries and a Japanese font (make pdf): {error}"
    return None


@pytest.fixture
def require_pdf():
    if reason := pdf_unavailable():
        _missing(reason)


@pytest.fixture
def reception_numbers_exhaust(db):
    """tests.factories._reception_numbers_exhaust, with the allocation sequence put back afterwards: PostgreSQL
    does not roll a sequence back with the test's transaction, and every later submission would be refused."""
    from applications.models import ReceptionNumberAllocation

    saved = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, 'id')", [ReceptionNumberAllocation._meta.db_table]
            )
            (sequence,) = cursor.fetchone()
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - the catalogue's name
            saved = (sequence, *cursor.fetchone())
    yield _reception_numbers_exhaust
    if saved is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, %s, %s)", list(saved))


@pytest.fixture
def require_redis():
    if not settings.REDIS_URL:
        _missing("this test needs Redis: set REDIS_URL=redis://…")


@pytest.fixture(autouse=True, scope="session")
def _ci_runs_against_the_real_services():
    """In CI the whole suite must run against the real PostgreSQL and Redis, never the embedded defaults."""
    if not IN_CI:
        return
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("CI=true but DATABASE_URL does not point at PostgreSQL", pytrace=False)
    if not settings.REDIS_URL:
        pytest.fail("CI=true but REDIS_URL is not set", pytrace=False)


@pytest.fixture(autouse=True)
def _celery_eager_unless_real_worker(request):
    """Tasks run in-process (so mail.outbox sees e-mails) except in tests marked `real_worker`, which start a real
    Celery worker against the real Redis and must publish to it."""
    from nss_portal.celery import app

    eager = request.node.get_closest_marker("real_worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashers(settings):
    settings.PASSWORD_HASHERS = [
        "tests.hashers.FastScryptPasswordHasher",
        "tests.hashers.FastNaccsScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


@pytest.fixture
def contract(db):
    return ContractFactory()


@pytest.fixture
def customer(contract):
    return CustomerFactory(contract=contract)


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def frozen_clock():
    """Stand on a Monday morning in Japan (FROZEN_AT); yields the traveller, to shift or move_to."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def freeze(frozen_clock):
    """Stand at FROZEN_AT; returns the earliest valid desired start date."""
    return rules.earliest_start_date(clock.today())


# --- the NACCS centre's staff: able to log in at the staff login (password and TOTP) ---------------


@pytest.fixture
def reviewer(db):
    return staff_with_device("reviewer", email="reviewer@nacc.example")


@pytest.fixture
def approver(db):
    return staff_with_device("approver", email="approver@nacc.example")


@pytest.fixture
def staff_client(client, reviewer):
    """The test client, logged in as `reviewer` through the staff login (OTP-verified)."""
    return otp_login(client, reviewer)


@pytest.fixture
def approver_client(approver):
    """A client of its own, logged in as `approver` through the staff login (OTP-verified)."""
    from django.test import Client

    return otp_login(Client(), approver)
