"""Delivery as a state machine (notifications/services.py): QUEUED → SENDING (attempt counted, lease set,
committed) → the SMTP conversation with no transaction or row lock open → SENT, QUEUED with backoff, or FAILED;
the sweeper takes back SENDING rows whose lease ran out, and rows that keep failing cannot hold back healthy ones.
Messages go to Django's test outbox (locmem) unless a test says otherwise; the PostgreSQL test uses the real SMTP
sink."""

import datetime
import threading
import uuid

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from applications import clock
from devtools.processes import wait_until
from notifications import services
from notifications.models import Email, EmailStatus

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=clock.JST)


@pytest.fixture
def clock_at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_email(**kwargs) -> Email:
    return Email.objects.create(
        **{
            "kind": "application_received",
            "to": "someone@example.com",
            "subject": "件名",
            "body_text": "本文",
            "message_id": f"<{uuid.uuid4().hex}@nss.naccs.example>",
            "next_attempt_at": timezone.now(),
            **kwargs,
        }
    )


def poison(**kwargs) -> Email:
    """A row the worker cannot even build a message of (a line break in the address): not an SMTP error."""
    return make_email(to="someone\n@example.com", **kwargs)


def state(email: Email) -> tuple:
    email.refresh_from_db()
    return email.status, email.attempts


def test_a_claim_counts_the_attempt_and_sets_the_lease_before_any_smtp(clock_at_now, settings):
    settings.NSS_EMAIL_LEASE_SECONDS = 150
    email = make_email()
    claimed = services.email_claim(email_id=email.pk)
    assert (claimed.status, claimed.attempts) == (EmailStatus.SENDING, 1)
    assert claimed.lease_until == NOW + datetime.timedelta(seconds=150)
    assert mail.outbox == []
    assert services.email_claim(email_id=email.pk) is None, "a row is claimed once"
    assert services.email_send(email_id=email.pk) == "skipped"


def test_a_successful_send_settles_sent_and_clears_the_lease(clock_at_now):
    email = make_email()
    assert services.email_send(email_id=email.pk) == "sent"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at, email.lease_until) == (
        EmailStatus.SENT,
        1,
        NOW,
        None,
    )
    assert len(mail.outbox) == 1


def test_a_message_that_cannot_be_built_is_a_failed_attempt_and_ends_failed(clock_at_now, settings):
    """The finding: any exception but SMTP's rolled back, leaving the row QUEUED with 0 attempts for ever."""
    settings.NSS_EMAIL_MAX_ATTEMPTS = 3
    settings.NSS_EMAIL_RETRY_BASE_SECONDS = 30
    email = poison()
    for attempt in (1, 2):
        assert services.email_send(email_id=email.pk) == "retry"
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, attempt)
        assert email.last_error.startswith("BadHeaderError: Header values can't contain newlines")
        assert email.next_attempt_at == NOW + datetime.timedelta(seconds=30 * 2 ** (attempt - 1))
        assert email.lease_until is None
    assert services.email_send(email_id=email.pk) == "failed"
    assert state(email) == (EmailStatus.FAILED, 3)
    assert mail.outbox == []


def test_a_lost_attempt_is_taken_back_by_the_sweeper_only_after_its_lease(clock_at_now, settings):
    settings.NSS_EMAIL_LEASE_SECONDS = 120
    email = make_email()
    services.email_claim(email_id=email.pk)  # …and the worker dies here
    clock_at_now.shift(datetime.timedelta(seconds=119))
    assert services.email_leases_reclaim() == 0
    assert state(email) == (EmailStatus.SENDING, 1)
    clock_at_now.shift(datetime.timedelta(seconds=2))
    assert services.email_leases_reclaim() == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.lease_until) == (EmailStatus.QUEUED, 1, None)
    assert email.last_error.startswith("LeaseExpired")
    assert email.next_attempt_at > timezone.now()
    assert services.email_send(email_id=email.pk) == "sent"
    assert state(email) == (EmailStatus.SENT, 2)


def test_a_row_that_kills_its_worker_every_time_still_ends_failed(clock_at_now, settings):
    settings.NSS_EMAIL_MAX_ATTEMPTS = 2
    settings.NSS_EMAIL_LEASE_SECONDS = 60
    email = make_email()
    for expected in (EmailStatus.QUEUED, EmailStatus.FAILED):
        Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        services.email_claim(email_id=email.pk)
        clock_at_now.shift(datetime.timedelta(seconds=61))
        services.email_leases_reclaim()
        assert Email.objects.get(pk=email.pk).status == expected
    assert state(email) == (EmailStatus.FAILED, 2)


def claimed_then_taken_back(clock_at_now, settings) -> tuple[Email, Email]:
    """A row claimed by a first attempt whose worker went silent past its lease; the sweeper has taken it back."""
    settings.NSS_EMAIL_LEASE_SECONDS = 60
    email = make_email()
    first = services.email_claim(email_id=email.pk)
    clock_at_now.shift(datetime.timedelta(seconds=61))
    assert services.email_leases_reclaim() == 1
    return email, first


def test_a_late_failure_after_the_lease_was_taken_back_does_not_overwrite_the_newer_attempt(
    clock_at_now, settings
):
    email, first = claimed_then_taken_back(clock_at_now, settings)
    second = services.email_claim(email_id=email.pk)
    assert second.attempts == 2
    assert services._settle_failed(first, attempt=1, error="OSError: slow") == "lost"
    assert state(email) == (EmailStatus.SENDING, 2)
    assert services._settle_sent(second, attempt=2) == "sent"
    assert state(email) == (EmailStatus.SENT, 2)


def test_a_late_success_after_the_lease_was_taken_back_still_settles_sent_and_is_not_sent_again(
    clock_at_now, settings
):
    """The attempt did deliver: if nobody claimed the row since, it is SENT, and no second copy goes out."""
    email, first = claimed_then_taken_back(clock_at_now, settings)
    assert services._settle_sent(first, attempt=1) == "sent"
    assert state(email) == (EmailStatus.SENT, 1)
    assert services.email_send(email_id=email.pk) == "skipped"


def test_poison_rows_cannot_hold_back_a_healthy_one(clock_at_now, settings, monkeypatch):
    """600 rows that keep failing, all due before a healthy one: the first sweep hands the healthy row over."""
    published = []
    monkeypatch.setattr(services, "_enqueue", published.append)
    Email.objects.bulk_create(
        Email(
            kind="application_received",
            to="someone\n@example.com",
            subject="件名",
            body_text="本文",
            message_id=f"<{uuid.uuid4().hex}@nss.naccs.example>",
            attempts=3,
            last_error="BadHeaderError: Header values can't contain newlines",
            next_attempt_at=NOW - datetime.timedelta(hours=1),
        )
        for _ in range(600)
    )
    healthy = make_email(next_attempt_at=NOW - datetime.timedelta(seconds=1))
    assert services.email_requeue_unsent(limit=500) == 500
    assert published[0] == healthy.pk
    # What was published moves on by the grace, so the next sweep takes the rest instead of the same rows again.
    published.clear()
    assert services.email_requeue_unsent(limit=500) == 101
    assert healthy.pk not in published


@pytest.mark.parametrize(
    ("status", "fields"),
    [
        ("sending", {"attempts": 1}),  # no lease
        ("queued", {"lease_until": NOW}),  # a lease outside SENDING
        ("failed", {"attempts": 2}),  # no error
        ("sent", {"attempts": 0, "sent_at": NOW}),  # sent without an attempt
        ("lost", {}),  # an unknown state
    ],
)
def test_the_database_refuses_an_inconsistent_row(status, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_email(status=status, **fields)


@pytest.mark.django_db(transaction=True)
def test_no_transaction_or_row_lock_is_open_during_the_smtp_conversation(
    require_postgres, settings, smtp_sink_factory
):
    """While the SMTP sink holds the DATA, another connection can lock the row at once (NOWAIT) and the sending
    connection is not idle in a transaction."""
    sink = smtp_sink_factory(delay=2.0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    email = make_email()
    result = {}
    backend_pid = {}

    def send():
        backend_pid["pid"] = connections["default"].cursor().connection.info.backend_pid
        result["value"] = services.email_send(email_id=email.pk)
        connections["default"].close()

    sender = threading.Thread(target=send)
    sender.start()
    assert sink.data_started.wait(20)
    wait_until(lambda: "pid" in backend_pid, timeout=5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [backend_pid["pid"]])
        (sender_state,) = cursor.fetchone()
        assert sender_state == "idle", f"the sending connection is {sender_state!r} during SMTP"
        with transaction.atomic():
            cursor.execute(
                "SELECT status FROM notifications_email WHERE id = %s FOR UPDATE NOWAIT", [email.pk]
            )
            assert cursor.fetchone() == ("sending",)
    sender.join(30)
    assert result["value"] == "sent"
    assert state(email) == (EmailStatus.SENT, 1)
    assert len(sink.received()) == 1


def test_staff_see_a_row_being_sent_as_such_without_a_resend_button(staff_client):
    from django.urls import reverse

    from tests.factories import submitted_application
    from tests.html import Page

    application = submitted_application()
    [email] = Email.objects.filter(topic="application", topic_id=application.pk)
    services.email_claim(email_id=email.pk)
    page = Page(staff_client.get(reverse("reviews:application", kwargs={"pk": application.pk})))
    [row] = page.root.find_all("tr", **{"data-email-status": "sending"})
    assert "送信中" in row.text and "試行1回" in row.text
    assert row.find_all("button") == []
    assert "送信処理中です" in row.text


def test_a_late_settle_from_before_a_staff_resend_does_not_overwrite_the_new_attempt(clock_at_now, settings):
    """A resend starts the attempt count again, so a stale attempt can carry the same number as the running one:
    the claim's own lease deadline tells them apart."""
    email, stale = claimed_then_taken_back(clock_at_now, settings)
    services.email_resend(email_id=email.pk)
    clock_at_now.shift(datetime.timedelta(seconds=1))
    running = services.email_claim(email_id=email.pk)
    assert (running.attempts, stale.attempts) == (1, 1)
    assert services._settle_failed(stale, attempt=1, error="OSError: slow") == "lost"
    assert state(email) == (EmailStatus.SENDING, 1)
    assert services._settle_sent(running, attempt=1) == "sent"
    assert state(email) == (EmailStatus.SENT, 1)


# --- what the receiving server answers (the real SMTP sink) --------------------------------------------------


@pytest.fixture
def over_smtp(settings, smtp_sink_factory):
    def start(**sink_options):
        sink = smtp_sink_factory()
        for name, value in sink_options.items():
            setattr(sink, name, value)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        return sink

    return start


def test_a_mailbox_refused_for_good_fails_at_once_with_the_servers_words(clock_at_now, settings, over_smtp):
    settings.NSS_EMAIL_MAX_ATTEMPTS = 8
    sink = over_smtp(rcpt_replies={"gone@example.com": ["550 5.1.1 <gone@example.com>: no such mailbox"]})
    email = make_email(to="gone@example.com")
    assert services.email_send(email_id=email.pk) == "failed"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.lease_until) == (EmailStatus.FAILED, 1, None)
    assert email.last_error == (
        "SMTPRecipientsRefused: 550 5.1.1 <gone@example.com>: no such mailbox (gone@example.com)"
    )
    assert sink.received() == []
    # The sweeper does not try it again: only a staff 再送 would.
    clock_at_now.shift(datetime.timedelta(days=1))
    services.email_requeue_unsent()
    assert state(email) == (EmailStatus.FAILED, 1)


def test_a_temporary_refusal_is_retried_with_backoff_and_then_delivered(clock_at_now, settings, over_smtp):
    settings.NSS_EMAIL_RETRY_BASE_SECONDS = 30
    sink = over_smtp(rcpt_replies={"busy@example.com": ["451 4.3.0 try again later"]})
    email = make_email(to="busy@example.com")
    assert services.email_send(email_id=email.pk) == "retry"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    assert email.last_error == "SMTPRecipientsRefused: 451 4.3.0 try again later (busy@example.com)"
    assert email.next_attempt_at == timezone.now() + datetime.timedelta(seconds=30)
    clock_at_now.shift(datetime.timedelta(seconds=31))
    assert services.email_send(email_id=email.pk) == "sent"
    assert state(email) == (EmailStatus.SENT, 2)
    assert [m.rcpt_tos for m in sink.received()] == [["busy@example.com"]]
    assert sink.rcpt_seen == ["busy@example.com", "busy@example.com"]


def test_a_message_refused_for_good_at_data_fails_at_once(clock_at_now, over_smtp):
    over_smtp(data_reply="554 5.7.1 message content rejected")
    email = make_email()
    assert services.email_send(email_id=email.pk) == "failed"
    email.refresh_from_db()
    assert (email.status, email.last_error) == (
        EmailStatus.FAILED,
        "SMTPDataError: 554 5.7.1 message content rejected",
    )


def test_a_temporary_refusal_at_data_is_retried(clock_at_now, over_smtp):
    over_smtp(data_reply="452 4.3.1 insufficient system storage")
    email = make_email()
    assert services.email_send(email_id=email.pk) == "retry"
    assert state(email) == (EmailStatus.QUEUED, 1)


def test_a_server_that_hangs_up_at_quit_after_its_250_has_the_message_and_it_is_not_sent_again(
    clock_at_now, over_smtp
):
    """The 250 is what counts: a connection cut afterwards is no failed attempt (no second duplicate window)."""
    sink = over_smtp(drop_at_quit=True)
    email = make_email()
    assert services.email_send(email_id=email.pk) == "sent"
    assert state(email) == (EmailStatus.SENT, 1)
    clock_at_now.shift(datetime.timedelta(hours=1))
    services.email_requeue_unsent()
    assert services.email_send(email_id=email.pk) == "skipped"
    assert len(sink.received()) == 1


def test_resending_a_row_being_sent_changes_nothing_and_is_not_audited(staff_client):
    from auditlog.models import LogEntry
    from django.urls import reverse

    from tests.factories import submitted_application

    application = submitted_application()
    [email] = Email.objects.filter(topic="application", topic_id=application.pk)
    services.email_claim(email_id=email.pk)
    before = state(email)
    url = reverse("reviews:email-resend", kwargs={"pk": application.pk, "email_id": email.pk})
    response = staff_client.post(url, follow=True)
    assert "このメールは送信処理中のため、再送しませんでした。" in response.content.decode()
    assert "再送キューに入れました" not in response.content.decode()
    assert state(email) == before
    assert not LogEntry.objects.filter(additional_data__action="email_resend").exists()
