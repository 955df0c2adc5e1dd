"""The outbox without a worker (SPEC §5): rows written in the transaction of the change that causes them, sent
after commit, at most once per row, failures retried with backoff and ending FAILED with the error kept, the
sweeper, staff resend, a broker that is down at commit, the three e-mails' content and the staff page."""

import datetime
import re
import smtplib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from applications import clock, dates, rules
from applications.models import ApplicationStatus
from applications.services import application_submit
from notifications import services
from notifications.models import Email, EmailStatus
from notifications.tasks import email_send_task
from reviews import services as review_services
from tests.factories import (
    PASSWORD,
    DraftFactory,
    ItemFactory,
    otp_login,
    staff_with_device,
    submitted_application,
)
from tests.html import Page

pytestmark = pytest.mark.django_db

# Monday 2026-11-16, 10:00 in Japan.
NOW = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=clock.JST)
RECEIPT = "application_received"
APPROVED = "application_approved"
REJECTED = "application_rejected"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def smtp_down(monkeypatch):
    """Every SMTP conversation ends with the server hanging up."""
    calls = []

    def send(self, fail_silently=False):
        calls.append(self)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    return calls


@pytest.fixture
def published(monkeypatch):
    """Record what is handed to the broker instead of running it."""
    calls = []

    def apply_async(self, args=None, kwargs=None, **options):
        calls.append(args[0])

    monkeypatch.setattr(type(email_send_task._get_current_object()), "apply_async", apply_async)
    return calls


def filed(**kwargs):
    """Two IDs asked: Q1Z and one with no wish."""
    return submitted_application(identifiers=("Q1Z", ""), **kwargs)


def rows(kind=None):
    queryset = Email.objects.order_by("pk")
    return list(queryset.filter(kind=kind) if kind else queryset)


def make_email(**kwargs) -> Email:
    fields = {
        "kind": RECEIPT,
        "to": "someone@example.com",
        "subject": "件名",
        "body_text": "本文",
        "message_id": f"<{uuid.uuid4().hex}@nss.naccs.example>",
        "next_attempt_at": timezone.now(),
        **kwargs,
    }
    return Email.objects.create(**fields)


def take(application, reviewer):
    return review_services.application_take(application=application, actor=reviewer)


# --- written in the transaction of the change ------------------------------------------------------------


def test_submission_writes_the_receipt_row_and_sends_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        application = filed()
        [row] = rows()
        # Committed work not yet run: the row waits, nothing went out.
        assert row.kind == RECEIPT
        assert row.status == EmailStatus.QUEUED
        assert row.attempts == 0
        assert (row.topic, row.topic_id) == ("application", application.pk)
        assert row.to == "applicant@example.com"
        assert mail.outbox == []
    assert callbacks
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_a_rolled_back_submission_leaves_no_email(django_capture_on_commit_callbacks):
    draft = DraftFactory(desired_start_date=rules.earliest_start_date(clock.today()))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        application_submit(application=draft)
        assert len(rows()) == 1
        raise RuntimeError("the transaction of the submission fails after the e-mail was queued")
    assert rows() == []
    assert callbacks == []
    assert mail.outbox == []
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_a_refused_submission_leaves_no_email(django_capture_on_commit_callbacks):
    draft = DraftFactory(desired_start_date=rules.earliest_start_date(clock.today()), applicant_email="")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        application_submit(application=draft)
    assert rows() == []
    assert mail.outbox == []


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_decision_writes_its_row_in_its_transaction(
    decision, reviewer, approver, django_capture_on_commit_callbacks
):
    application = take(filed(), reviewer)
    kind = APPROVED if decision == "approve" else REJECTED

    def decide():
        if decision == "approve":
            review_services.application_approve(application=application, actor=approver)
        else:
            review_services.application_reject(application=application, actor=reviewer, reason="書類不備")

    # Rolled back with the decision: no row, no e-mail, the application still under review.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        decide()
        assert len(rows(kind)) == 1
        raise RuntimeError("rolled back")
    assert rows(kind) == []
    assert callbacks == []
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW

    # Committed: the row is there before the after-commit work runs, and sent by it.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide()
        [row] = rows(kind)
        assert row.status == EmailStatus.QUEUED
        assert (row.topic, row.topic_id) == ("application", application.pk)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert [message.subject for message in mail.outbox] == [row.subject]


# --- sending: once per row ----------------------------------------------------------------------------------


def test_email_send_sends_a_queued_row_once_and_marks_it_sent():
    filed()
    [row] = rows()
    assert services.email_send(email_id=row.pk) == "sent"
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert row.sent_at == NOW
    assert row.attempts == 1
    assert row.last_error == ""
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id
    assert message.message()["Message-ID"] == row.message_id
    assert message.to == [row.to]

    # A retried, duplicated or redelivered task for the same row sends nothing more.
    assert services.email_send(email_id=row.pk) == "skipped"
    assert email_send_task.apply(args=(row.pk,)).get() == "skipped"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


@pytest.mark.parametrize("status", [EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.SENDING])
def test_email_send_never_sends_a_row_that_is_not_queued(status):
    row = make_email(
        status=status,
        attempts=1,
        sent_at=NOW if status == EmailStatus.SENT else None,
        last_error="SMTPServerDisconnected: gone" if status == EmailStatus.FAILED else "",
        lease_until=NOW + datetime.timedelta(minutes=2) if status == EmailStatus.SENDING else None,
    )
    assert services.email_send(email_id=row.pk) == "skipped"
    assert services.email_send(email_id=987654321) == "skipped"
    assert mail.outbox == []


def test_smtp_failures_retry_with_exponential_backoff_then_fail_with_the_error_kept(
    settings, smtp_down, frozen_clock
):
    settings.NSS_EMAIL_RETRY_BASE_SECONDS = 30
    settings.NSS_EMAIL_MAX_ATTEMPTS = 4
    filed()
    [row] = rows()
    for attempt, delay in [(1, 30), (2, 60), (3, 120)]:
        assert services.email_send(email_id=row.pk) == "retry"
        row.refresh_from_db()
        assert row.status == EmailStatus.QUEUED
        assert row.attempts == attempt
        assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        assert row.next_attempt_at == timezone.now() + datetime.timedelta(seconds=delay)
        assert row.sent_at is None
        frozen_clock.shift(datetime.timedelta(seconds=delay))

    assert services.email_send(email_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 4
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert row.sent_at is None
    assert len(smtp_down) == 4
    # A failed row is not tried again by a stray task.
    assert services.email_send(email_id=row.pk) == "skipped"
    assert len(smtp_down) == 4


def test_the_backoff_follows_the_base_setting_and_is_capped_at_an_hour(settings):
    settings.NSS_EMAIL_RETRY_BASE_SECONDS = 30
    assert [services._retry_delay(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    settings.NSS_EMAIL_RETRY_BASE_SECONDS = 5
    assert services._retry_delay(3) == datetime.timedelta(seconds=20)
    settings.NSS_EMAIL_RETRY_MAX_SECONDS = 12
    assert [services._retry_delay(n).total_seconds() for n in (1, 2, 3, 500)] == [5, 10, 12, 12]


def test_a_task_failure_is_recorded_not_raised(settings, smtp_down):
    """The Celery task itself does not blow up on an SMTP failure: the row holds the retry state."""
    filed()
    [row] = rows()
    assert email_send_task.apply(args=(row.pk,)).get() == "retry"
    row.refresh_from_db()
    assert row.attempts == 1
    assert "SMTPServerDisconnected" in row.last_error


# --- the sweeper ------------------------------------------------------------------------------------------------


def test_the_sweeper_requeues_only_queued_rows_whose_time_has_come(settings, published, frozen_clock):
    settings.NSS_EMAIL_SWEEP_GRACE_SECONDS = 60
    fresh = make_email(next_attempt_at=NOW + datetime.timedelta(seconds=60))
    backing_off = make_email(next_attempt_at=NOW + datetime.timedelta(seconds=120), attempts=2)
    make_email(
        status=EmailStatus.SENT, sent_at=NOW, attempts=1, next_attempt_at=NOW - datetime.timedelta(hours=1)
    )
    make_email(
        status=EmailStatus.FAILED,
        attempts=8,
        last_error="SMTPRecipientsRefused",
        next_attempt_at=NOW - datetime.timedelta(hours=1),
    )

    assert services.email_requeue_unsent() == 0
    frozen_clock.shift(datetime.timedelta(seconds=59))
    assert services.email_requeue_unsent() == 0
    assert published == []

    frozen_clock.shift(datetime.timedelta(seconds=1))
    assert services.email_requeue_unsent() == 1
    assert published == [fresh.pk]

    frozen_clock.shift(datetime.timedelta(seconds=60))
    published.clear()
    assert services.email_requeue_unsent() == 2
    assert published == [fresh.pk, backing_off.pk]


def test_a_submission_gets_the_grace_period_before_the_sweeper_touches_it(settings, published, frozen_clock):
    settings.NSS_EMAIL_SWEEP_GRACE_SECONDS = 60
    filed()
    [row] = rows()
    assert row.next_attempt_at == NOW + datetime.timedelta(seconds=60)
    assert services.email_requeue_unsent() == 0
    frozen_clock.shift(datetime.timedelta(seconds=61))
    assert services.email_requeue_unsent() == 1
    assert published == [row.pk]


def test_the_sweeper_task_is_on_the_beat_schedule_and_sends_through_the_send_task(settings, frozen_clock):
    from nss_portal.celery import app

    [entry] = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("email_requeue_unsent")
    ]
    assert entry["task"] in app.tasks
    filed()
    [row] = rows()
    frozen_clock.shift(datetime.timedelta(seconds=settings.NSS_EMAIL_SWEEP_GRACE_SECONDS + 1))
    # Eager here: the sweeper's task publishes the send task, which runs at once.
    assert app.tasks[entry["task"]].apply().get() == 1
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert len(mail.outbox) == 1
    assert app.tasks[entry["task"]].apply().get() == 0


# --- resend ------------------------------------------------------------------------------------------------------


def test_resending_a_failed_email_queues_it_again_from_scratch(
    settings, monkeypatch, django_capture_on_commit_callbacks, frozen_clock
):
    settings.NSS_EMAIL_MAX_ATTEMPTS = 2
    filed()
    [row] = rows()
    with monkeypatch.context() as patch:
        patch.setattr(
            EmailMultiAlternatives,
            "send",
            lambda self, fail_silently=False: (_ for _ in ()).throw(smtplib.SMTPServerDisconnected("gone")),
        )
        services.email_send(email_id=row.pk)
        services.email_send(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == EmailStatus.FAILED

    frozen_clock.shift(datetime.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = services.email_resend(email_id=row.pk)
    assert again.pk == row.pk
    row.refresh_from_db()
    assert row.status == EmailStatus.QUEUED
    assert row.attempts == 0
    assert row.next_attempt_at == timezone.now()
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert row.attempts == 1
    assert row.last_error == ""
    assert len(mail.outbox) == 1
    assert Email.objects.count() == 1


def test_resending_a_sent_email_makes_a_linked_copy(django_capture_on_commit_callbacks):
    filed()
    [row] = rows()
    services.email_send(email_id=row.pk)
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.email_resend(email_id=row.pk)
    assert copy.pk != row.pk
    copy.refresh_from_db()
    row.refresh_from_db()
    assert copy.resent_from == row
    assert (copy.kind, copy.to, copy.subject, copy.body_text, copy.body_html) == (
        row.kind,
        row.to,
        row.subject,
        row.body_text,
        row.body_html,
    )
    assert copy.message_id != row.message_id
    assert copy.status == EmailStatus.SENT
    assert row.status == EmailStatus.SENT
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [row.message_id, copy.message_id]


# --- the broker down at commit -------------------------------------------------------------------------------


def test_an_unreachable_broker_does_not_break_the_submission(
    client, customer, monkeypatch, django_capture_on_commit_callbacks, frozen_clock, settings
):
    def broker_down(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(type(email_send_task._get_current_object()), "apply_async", broker_down)
    draft = DraftFactory(
        contract=customer.contract,
        created_by=customer,
        desired_start_date=rules.earliest_start_date(clock.today()),
        items=0,
    )
    ItemFactory(application=draft, desired_identifier="Q1Z")
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("applications:confirm", kwargs={"pk": draft.pk}), follow=True)
    assert callbacks
    assert response.status_code == 200
    assert Page(response).screen == "complete"
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert draft.reception_number in response.content.decode()
    [row] = rows()
    assert row.status == EmailStatus.QUEUED
    assert row.attempts == 0
    assert mail.outbox == []

    # Broker back: the sweeper sends it once its time has come.
    monkeypatch.undo()
    frozen_clock.shift(datetime.timedelta(seconds=settings.NSS_EMAIL_SWEEP_GRACE_SECONDS + 1))
    assert services.email_requeue_unsent() == 1
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert len(mail.outbox) == 1


# --- content ---------------------------------------------------------------------------------------------------


def parts(message) -> tuple[str, str]:
    assert isinstance(message, EmailMultiAlternatives)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


def assert_utf8_multipart(message):
    raw = message.message()
    assert raw.get_content_type() == "multipart/alternative"
    plain, html = raw.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    assert html.get_content_charset() == "utf-8"
    raw_bytes = raw.as_bytes()
    assert b'charset="utf-8"' in raw_bytes or b"charset=utf-8" in raw_bytes


def test_the_receipt_content(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        application = filed()
    [message] = mail.outbox
    text, html = parts(message)
    assert message.to == ["applicant@example.com"]
    assert "受付完了" in message.subject
    assert application.reception_number in message.subject
    desired = dates.format_date(application.desired_start_date)
    for body in (text, html):
        assert application.reception_number in body
        assert desired in body
        assert "Q1Z" in body
        assert "指定なし" in body
        assert "通関 士0" in body
        assert "通関 士1" in body
        assert "翌営業日" in body
        # SPEC §5 / issue: the receipt leads to the application too
        assert f"{settings.NSS_BASE_URL}/login/?next=/applications/{application.pk}/" in body
    assert_utf8_multipart(message)


NO_REPLY = "このメールは送信専用のアドレスから送信しています。ご返信いただいてもお答えできません。"


@pytest.mark.parametrize(
    "kind",
    [
        "application_received",
        "application_approved",
        "application_rejected",
        "application_start_date_changed",
        "application_withdrawn",
        "draft_expiry_warning",
        "staff_enrolment",
        "customer_invitation",
        "customer_password_reset",
    ],
)
def test_every_email_ends_with_the_no_reply_note_and_the_centres_contact_and_links_from_the_base_url(
    settings, kind
):
    settings.NSS_BASE_URL = "https://nss.example.jp"
    settings.NSS_CENTRE_NAME = "テストセンター"
    settings.NSS_CENTRE_CONTACT = ["ヘルプデスク", "電話：03-0000-0000"]
    context = {
        "login_url": "https://nss.example.jp/login/",
        "link_url": "https://nss.example.jp/enrol/x/",
        "reception_number": "1000001L",
        "items": [],
        "item_count": 1,
        "expiry_days": 30,
        "deletion_date": "2026年12月17日",
    }
    subject, text, html = services._render(kind, context)
    assert subject.startswith("【NSS】")
    assert text.rstrip().endswith("電話：03-0000-0000"), text
    for body in (text, html):
        assert NO_REPLY in body
        assert "テストセンター NSS" in body
        assert "ヘルプデスク" in body and "電話：03-0000-0000" in body
        for link in re.findall(r"https?://[^\s\"<>]+", body):
            assert link.startswith("https://nss.example.jp/"), link


def test_the_confirmation_content_and_its_login_link_lead_to_the_application(
    reviewer, approver, django_capture_on_commit_callbacks
):
    application = take(filed(), reviewer)
    contract = application.contract
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_services.application_approve(application=application, actor=approver)
    [message] = mail.outbox
    text, html = parts(message)
    assert message.subject == "【NSS】利用申込確認完了のお知らせ"
    assert message.to == ["applicant@example.com"]
    assert text.startswith(
        f"{contract.company_name} {contract.office_name} {application.applicant_department}\n"
        f"{application.applicant_name} 様\n"
    )
    assert f"{application.applicant_name} 様" in html
    detail = reverse("applications:application-detail", kwargs={"pk": application.pk})
    [link] = [line.strip() for line in text.splitlines() if "/login/" in line]
    assert link in html
    for body in (text, html):
        assert application.reception_number in body
        assert "希望日と異なる場合" in body
    url = urlsplit(link)
    assert url.path == reverse("login")
    assert parse_qs(url.query) == {"next": [detail]}
    assert_utf8_multipart(message)

    # The logged-out customer follows the link, logs in through the form and lands on this application's 詳細.
    customer = application.created_by
    browser = Client()
    response = browser.get(f"{url.path}?{url.query}")
    assert Page(response).screen == "login"
    form = next(
        node
        for node in Page(response).root.find_all("form")
        if any(field.attrs.get("name") == "password" for field in node.find_all("input"))
    )
    hidden = {
        node.attrs["name"]: node.attrs.get("value", "")
        for node in form.find_all("input")
        if node.attrs.get("type") == "hidden"
    }
    assert hidden.get("next") == detail
    response = browser.post(
        form.attrs.get("action") or url.path,
        {**hidden, "username": customer.username, "password": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail
    assert Page(response).screen == "application-detail"
    assert application.reception_number in response.content.decode()


def test_the_rejection_content(reviewer, django_capture_on_commit_callbacks):
    application = take(filed(), reviewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_services.application_reject(
            application=application, actor=reviewer, reason="通関士証票の写しが添付されていません。"
        )
    [message] = mail.outbox
    text, html = parts(message)
    assert "不受理のお知らせ" in message.subject
    assert message.to == ["applicant@example.com"]
    for body in (text, html):
        assert "通関士証票の写しが添付されていません。" in body
        assert application.reception_number in body
        assert "改めてお申込み" in body
    assert_utf8_multipart(message)


# --- the staff page ---------------------------------------------------------------------------------------------


def email_rows(response):
    return [row for row in Page(response).root.find_all("tr") if "data-email-status" in row.attrs]


def test_the_staff_page_lists_each_email_with_its_state_and_resends_it(
    settings, smtp_down, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NSS_EMAIL_MAX_ATTEMPTS = 1
    application = filed()
    [row] = rows()
    assert services.email_send(email_id=row.pk) == "failed"

    staff = staff_with_device("reviewer", username="outbox-reviewer")
    client = otp_login(Client(), staff)
    page_url = reverse("reviews:application", kwargs={"pk": application.pk})
    response = client.get(page_url)
    assert Page(response).screen == "staff-application"
    [listed] = email_rows(response)
    assert listed.attrs["data-email-status"] == "failed"
    assert row.subject in listed.text
    assert row.to in listed.text
    assert "送信失敗" in listed.text
    assert "試行1回" in listed.text
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in listed.text

    # 再送, the SMTP server back.
    monkeypatch.undo()
    form = Page(response).form_of("再送")
    assert form.attrs["action"] == reverse(
        "reviews:email-resend", kwargs={"pk": application.pk, "email_id": row.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form.attrs["action"])
    assert response.status_code == 302
    response = client.get(response.url)
    assert Page(response).screen == "staff-application"
    assert row.to in response.content.decode()
    [listed] = email_rows(response)
    assert listed.attrs["data-email-status"] == "sent"
    assert "送信済み" in listed.text
    assert "試行1回" in listed.text
    assert len(mail.outbox) == 1

    # 再送 of a sent e-mail: a second, linked copy, listed as such.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(form.attrs["action"])
    listed = email_rows(client.get(page_url))
    assert [r.attrs["data-email-status"] for r in listed] == ["sent", "sent"]

    def badges(tr):
        return [span.text for span in tr.find_all("span") if "badge" in span.attrs.get("class", "")]

    assert badges(listed[0]) == []
    assert badges(listed[1]) == ["再送"]
    assert len(mail.outbox) == 2
    assert Email.objects.get(resent_from=row).status == EmailStatus.SENT
