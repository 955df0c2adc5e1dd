"""E-mail to customers (SPEC §5), through the outbox in notifications/models.py.

Callers pass plain data (address, template context and what the e-mail is about); this app imports none of the
others. `email_queue` writes the row in the caller's transaction and asks Celery to send it once that transaction
commits; if the broker cannot be reached then (Redis down), the row simply waits for the sweeper
(`email_requeue_unsent`, run by Celery beat), so the customer's action never fails because of e-mail.
"""

import datetime
import logging
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Email, EmailStatus

logger = logging.getLogger(__name__)

# E-mails whose body is a credential (a single-use link that sets a password): once sent, the row keeps no copy
# of it, so the outbox table holds no working secret in clear. They are never resent; a new link is issued instead.
CREDENTIAL_KINDS = frozenset({"staff_enrolment"})
CREDENTIAL_BODY_REMOVED = (
    "（送信済み。本人だけが使う登録用リンクが含まれていたため、本文は送信後に消去しました。）"
)

# The errors a send can end with that are worth trying again: the SMTP server or the network.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def _render(template: str, context: dict) -> tuple[str, str, str]:
    # E-mails are written in Japanese whatever the language of the screen that caused them.
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"notifications/{template}_subject.txt", context).split())
        text = render_to_string(f"notifications/{template}.txt", context)
        html = render_to_string(f"notifications/{template}.html", context)
    return subject, text, html


def _enqueue(email_id: int) -> None:
    """Hand the row to Celery; on failure (broker down) leave it to the sweeper."""
    from .tasks import email_send_task

    try:
        email_send_task.apply_async((email_id,), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure: the row is safe in the database, the sweeper sends it
        logger.warning("email %s: broker unreachable, left for the sweeper", email_id, exc_info=True)


def email_queue(*, kind: str, to: str, context: dict, topic: str = "", topic_id: int | None = None) -> Email:
    """Write the e-mail into the outbox in the current transaction; it is sent after commit."""
    subject, text, html = _render(kind, context)
    email = Email.objects.create(
        kind=kind,
        topic=topic,
        topic_id=topic_id,
        to=to,
        subject=subject,
        body_text=text,
        body_html=html,
        message_id=make_msgid(domain=settings.NSS_EMAIL_MESSAGE_ID_DOMAIN),
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=settings.NSS_EMAIL_SWEEP_GRACE_SECONDS),
    )
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min, 4 min … capped at one hour."""
    return datetime.timedelta(seconds=min(settings.NSS_EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600))


def email_send(*, email_id: int) -> str:
    """Send one queued e-mail, at most once.

    The row is locked (SKIP LOCKED) for the length of the SMTP conversation and only a QUEUED row is sent: a second
    task for the same row (a retry, the sweeper, a redelivery) either waits for nothing — the row is locked, so it
    skips — or finds it SENT and stops. If the worker dies mid-send, its database session ends, the lock and the
    transaction go with it, and the row is still QUEUED for the redelivered task or the sweeper.
    Returns "sent", "retry", "failed" or "skipped".
    """
    with transaction.atomic():
        email = (
            Email.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=email_id, status=EmailStatus.QUEUED)
            .first()
        )
        if email is None:
            return "skipped"
        message = EmailMultiAlternatives(
            email.subject,
            email.body_text,
            settings.DEFAULT_FROM_EMAIL,
            [email.to],
            headers={"Message-ID": email.message_id},
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        email.attempts += 1
        try:
            message.send()
        except TRANSIENT_ERRORS as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= settings.NSS_EMAIL_MAX_ATTEMPTS:
                email.status = EmailStatus.FAILED
            else:
                email.next_attempt_at = timezone.now() + _retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("email %s: attempt %s failed: %s", email.pk, email.attempts, email.last_error)
            return "failed" if email.status == EmailStatus.FAILED else "retry"
        email.status = EmailStatus.SENT
        email.sent_at = timezone.now()
        email.last_error = ""
        fields = ["attempts", "status", "sent_at", "last_error"]
        if email.kind in CREDENTIAL_KINDS:
            email.body_text, email.body_html = CREDENTIAL_BODY_REMOVED, ""
            fields += ["body_text", "body_html"]
        email.save(update_fields=fields)
        logger.info("email %s: sent (attempt %s)", email.pk, email.attempts)
        return "sent"


def email_requeue_unsent(*, limit: int = 500) -> int:
    """The sweeper: hand every QUEUED e-mail whose time has come back to Celery. Returns how many."""
    due = list(
        Email.objects.filter(status=EmailStatus.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for email_id in due:
        _enqueue(email_id)
    return len(due)


@transaction.atomic
def email_resend(*, email_id: int) -> Email:
    """Staff action: a failed (or still queued) e-mail is queued again from scratch; a sent one is sent again as a
    new row (a deliberate second copy, linked to the first)."""
    email = Email.objects.select_for_update(no_key=True).get(pk=email_id)
    if email.kind in CREDENTIAL_KINDS and email.status == EmailStatus.SENT:
        raise ValueError("a sent credential e-mail is never resent: issue a new link instead")
    if email.status == EmailStatus.SENT:
        copy = Email.objects.create(
            kind=email.kind,
            topic=email.topic,
            topic_id=email.topic_id,
            to=email.to,
            subject=email.subject,
            body_text=email.body_text,
            body_html=email.body_html,
            message_id=make_msgid(domain=settings.NSS_EMAIL_MESSAGE_ID_DOMAIN),
            resent_from=email,
        )
        transaction.on_commit(lambda: _enqueue(copy.pk))
        return copy
    email.status = EmailStatus.QUEUED
    email.attempts = 0
    email.next_attempt_at = timezone.now()
    email.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def emails_about(*, topic: str, topic_id: int) -> list[Email]:
    return list(Email.objects.filter(topic=topic, topic_id=topic_id).order_by("created_at", "pk"))


# The three e-mails of SPEC §5 ---------------------------------------------------------------------------------


def email_application_received_queue(*, to: str, context: dict, application_id: int | None = None) -> Email:
    """受付完了: reception number, the IDs asked, the desired start date, that review may take a while."""
    return email_queue(
        kind="application_received", to=to, context=context, topic="application", topic_id=application_id
    )


def email_application_approved_queue(*, to: str, context: dict, application_id: int | None = None) -> Email:
    """【NSS】利用申込確認完了のお知らせ: addressed like the guide, with the login link to this application's 詳細."""
    return email_queue(
        kind="application_approved", to=to, context=context, topic="application", topic_id=application_id
    )


def email_application_rejected_queue(*, to: str, context: dict, application_id: int | None = None) -> Email:
    """不受理のお知らせ: the reason and how to file again."""
    return email_queue(
        kind="application_rejected", to=to, context=context, topic="application", topic_id=application_id
    )
