"""Faults with a real worker (SPEC §5): Redis down at submission, a worker killed mid-send."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import clock, rules
from devtools.processes import wait_until
from notifications import services
from notifications.models import Email, EmailStatus
from notifications.tasks import email_send_task
from tests.factories import DraftFactory, ItemFactory, submitted_application
from tests.html import Page
from tests.notifications.conftest import use_broker

pytestmark = [
    pytest.mark.usefixtures("require_postgres", "require_redis"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.real_worker,
]


def row_status(pk: int) -> str:
    return Email.objects.values_list("status", flat=True).get(pk=pk)


@pytest.fixture
def broker_on_private_redis(private_redis, monkeypatch):
    """This process publishes to a private redis-server (never the shared one); restored afterwards."""
    from nss_portal.celery import app

    # Celery reads these from the environment before its configuration: they would override the switch.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    previous = app.conf.broker_url
    private_redis.start()
    use_broker(private_redis.url)
    yield private_redis
    use_broker(previous)


def test_with_redis_down_the_customer_completes_and_the_email_goes_out_once_redis_is_back(
    settings, client, customer, broker_on_private_redis, smtp_sink, celery_worker_proc
):
    redis_server = broker_on_private_redis
    settings.NSS_EMAIL_SWEEP_GRACE_SECONDS = 0
    draft = DraftFactory(
        contract=customer.contract,
        created_by=customer,
        desired_start_date=rules.earliest_start_date(clock.today()),
        items=0,
    )
    ItemFactory(application=draft, desired_identifier="Q1Z")
    client.force_login(customer)

    redis_server.stop()
    started = time.monotonic()
    response = client.post(reverse("applications:confirm", kwargs={"pk": draft.pk}), follow=True)
    assert time.monotonic() - started < 15, "the submission must not hang on the broker"
    assert response.status_code == 200
    assert Page(response).screen == "complete"
    draft.refresh_from_db()
    assert draft.reception_number in response.content.decode()
    [row] = Email.objects.all()
    assert row.status == EmailStatus.QUEUED
    assert row.attempts == 0

    # Redis back on the same port, a worker with beat running the sweeper every second.
    redis_server.start()
    use_broker(redis_server.url)
    celery_worker_proc(
        smtp_port=smtp_sink.port,
        redis_url=redis_server.url,
        beat=True,
        env={"NSS_EMAIL_SWEEP_INTERVAL_SECONDS": "1"},
    )
    [message] = smtp_sink.wait_for(1, timeout=45)
    wait_until(lambda: row_status(row.pk) == EmailStatus.SENT, timeout=20, message="row SENT")
    # Beat keeps sweeping (and may have queued the row more than once meanwhile): still exactly one e-mail. No
    # wait proves that: every send follows a claim, a claim needs a QUEUED row, and the row is SENT after its one
    # claimed attempt, so no later task can send it again.
    assert len(smtp_sink.received()) == 1
    assert message.message_id == row.message_id
    assert message.rcpt_tos == [draft.applicant_email]
    assert draft.reception_number in message.subject
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_worker_killed_mid_send_neither_loses_nor_duplicates_the_email(
    settings, smtp_sink_factory, celery_worker_proc
):
    """Killed between claim and the 250: the row stays SENDING with its attempt counted (committed before any
    SMTP), the sweeper takes it back once the lease has run out, and the next attempt delivers it once."""
    settings.NSS_EMAIL_SWEEP_GRACE_SECONDS = 0
    lease = {"NSS_EMAIL_LEASE_SECONDS": "6"}
    sink = smtp_sink_factory(delay=3.0)
    first = celery_worker_proc(smtp_port=sink.port, env=lease)
    application = submitted_application(identifiers=("Q1Z",))
    [row] = Email.objects.all()

    # The worker has handed over the whole message and waits for the 250: kill it there.
    assert sink.data_started.wait(30), first.log()
    first.kill()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == (EmailStatus.SENDING, 1, None)
    assert row.lease_until is not None
    # Until the lease runs out the sweeper leaves the row alone; then it takes it back as lost.
    assert services.email_leases_reclaim() == 0
    wait_until(lambda: services.email_leases_reclaim() == 1, timeout=20, message="lease taken back")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (EmailStatus.QUEUED, 1)
    assert row.last_error.startswith("LeaseExpired")
    assert sink.received() == [], "a message whose sender died before the 250 is not delivered"

    # A new worker; the sweeper (beat's task, run here) hands the row over again once its backoff is over.
    Email.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    celery_worker_proc(smtp_port=sink.port, env=lease)
    assert services.email_requeue_unsent() == 1
    # A duplicated task for the same row changes nothing.
    email_send_task.apply_async((row.pk,))
    [message] = sink.wait_for(1, timeout=30)
    wait_until(lambda: row_status(row.pk) == EmailStatus.SENT, timeout=20, message="row SENT")
    assert sink.data_seen == 2, "one conversation cut by the kill, one that delivered"
    assert message.message_id == row.message_id
    assert application.reception_number in message.subject
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    # Both attempts are counted: the killed one was committed before it spoke SMTP.
    assert row.attempts == 2
    assert len(sink.received()) == 1


def test_redelivered_or_duplicated_tasks_after_the_send_send_nothing_more(
    settings, smtp_sink, celery_worker_proc
):
    """After a kill the broker message (acks_late) comes back once the visibility timeout has passed; by then the
    row was sent through the sweeper. Such late tasks (and sweeps) find it SENT and send nothing."""
    settings.NSS_EMAIL_SWEEP_GRACE_SECONDS = 0
    worker = celery_worker_proc(smtp_port=smtp_sink.port)
    submitted_application(identifiers=("Q1Z",))
    [row] = Email.objects.all()
    smtp_sink.wait_for(1)
    wait_until(lambda: row_status(row.pk) == EmailStatus.SENT, timeout=20, message="row SENT")
    late = [email_send_task.apply_async((row.pk,)).id for _ in range(3)]
    services.email_requeue_unsent()
    # Wait until the worker has run every late task (its log says so), instead of sleeping a while.
    wait_until(
        lambda: all(
            f"[{task_id}] succeeded" in worker.log() and "'skipped'" in worker.log() for task_id in late
        ),
        timeout=30,
        message="the late tasks ran",
    )
    assert len(smtp_sink.received()) == 1
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.sent_at is not None
