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
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Email, EmailStatus

logger = logging.getLogger(__name__)

# E-mails whose body is a credential (a single-use link that sets a password): once sent, the row keeps no copy
# of it, so the outbox table holds no working secret in clear. They are never resent; a new link is issued instead.
CREDENTIAL_KINDS = frozenset({"staff_enrolment", "customer_password_reset", "customer_invitation"})
CREDENTIAL_BODY_REMOVED = (
    "（送信済み。本人だけが使う登録用リンクが含まれていたため、本文は送信後に消去しました。）"
)


def _render(template: str, context: dict) -> tuple[str, str, str]:
    # Every e-mail ends with who to contact (templates/notifications/_signature.*).
    context = {
        "centre_name": settings.NSS_CENTRE_NAME,
        "centre_contact": settings.NSS_CENTRE_CONTACT,
        **context,
    }
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
    except Exception:  # any broker failure: the row is safe in the database, the sweeper sends it
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
    """Exponential backoff: 30 s, 1 min, 2 min, 4 min … capped at NSS_EMAIL_RETRY_MAX_SECONDS (one hour)."""
    delay = settings.NSS_EMAIL_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30)
    return datetime.timedelta(seconds=min(delay, settings.NSS_EMAIL_RETRY_MAX_SECONDS))


def _message(email: Email) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        email.subject,
        email.body_text,
        settings.DEFAULT_FROM_EMAIL,
        [email.to],
        headers={"Message-ID": email.message_id},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def _reply_text(code: int, message: bytes | str) -> str:
    return f"{code} {message.decode(errors='replace') if isinstance(message, bytes) else message}"


def _error_text(exc: BaseException) -> str:
    """What staff read as the last error: the server's own reply where there is one (550 5.1.1 …)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{_reply_text(*reply)} ({to})" for to, reply in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = _reply_text(exc.smtp_code, exc.smtp_error)
    else:
        detail = str(exc)
    return f"{type(exc).__name__}: {detail}"[:2000]


def _refused_for_good(exc: BaseException) -> bool:
    """The receiving server refused this message for good: every recipient refused with a 5xx reply (550 no such
    mailbox), or the DATA refused with a 5xx (554 content rejected). Trying again cannot help, so the row goes
    FAILED at once for staff to see. A refused sender or a failed login is our configuration, the same for every
    message, and a 4xx, a dropped connection or any other error may pass: those are retried with backoff."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [reply[0] for reply in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def email_claim(*, email_id: int) -> Email | None:
    """QUEUED → SENDING: the attempt is counted and a lease set, committed before any SMTP is spoken. One guarded
    UPDATE, so of two tasks for one row exactly one claims it; None for the other (or a row not QUEUED)."""
    claimed = Email.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(
        status=EmailStatus.SENDING,
        attempts=F("attempts") + 1,
        lease_until=timezone.now() + datetime.timedelta(seconds=settings.NSS_EMAIL_LEASE_SECONDS),
    )
    return Email.objects.get(pk=email_id) if claimed else None


def _this_claim(email: Email, *, attempt: int) -> Q:
    """The row as this attempt claimed it: the attempt number alone can repeat (a staff resend starts the count
    again from 0), the lease deadline of one claim does not."""
    return Q(pk=email.pk, status=EmailStatus.SENDING, attempts=attempt, lease_until=email.lease_until)


def _settle_sent(email: Email, *, attempt: int) -> str:
    """→ SENT, unless a newer attempt has claimed the row since (its lease ran out and the sweeper took it back):
    then that attempt decides, and this one only warns (the duplicate window, docs/decisions.md)."""
    changes = {"status": EmailStatus.SENT, "sent_at": timezone.now(), "last_error": "", "lease_until": None}
    if email.kind in CREDENTIAL_KINDS:
        changes |= {"body_text": CREDENTIAL_BODY_REMOVED, "body_html": ""}
    # This claim still holding the row, or the sweeper having taken it back with nobody claiming it since.
    taken_back = Q(pk=email.pk, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED], attempts=attempt)
    settled = Email.objects.filter(_this_claim(email, attempt=attempt) | taken_back).update(**changes)
    if not settled:
        logger.warning("email %s: sent by attempt %s after a newer attempt took over", email.pk, attempt)
        return "sent-late"
    logger.info("email %s: sent (attempt %s)", email.pk, attempt)
    return "sent"


def _settle_failed(email: Email, *, attempt: int, error: str, for_good: bool = False) -> str:
    """SENDING → QUEUED with backoff, or FAILED after NSS_EMAIL_MAX_ATTEMPTS (at once when the server refused the
    message for good); the error is kept."""
    failed = for_good or attempt >= settings.NSS_EMAIL_MAX_ATTEMPTS
    settled = Email.objects.filter(_this_claim(email, attempt=attempt)).update(
        status=EmailStatus.FAILED if failed else EmailStatus.QUEUED,
        lease_until=None,
        last_error=error,
        next_attempt_at=timezone.now() + _retry_delay(attempt),
    )
    if not settled:
        logger.warning(
            "email %s: attempt %s ended after its lease was taken back: %s", email.pk, attempt, error
        )
        return "lost"
    logger.warning("email %s: attempt %s failed: %s", email.pk, attempt, error)
    return "failed" if failed else "retry"


def email_send(*, email_id: int) -> str:
    """Send one queued e-mail: claim (committed) → the SMTP conversation with no transaction or row lock open →
    settle. Any exception — the SMTP server, the network, a message that cannot even be built — is a failed
    attempt with its error kept; a worker that dies mid-send leaves the row SENDING with its attempt counted, and
    the sweeper takes it back when the lease runs out. Returns "sent", "retry", "failed", "skipped" (not claimed),
    "lost" or "sent-late" (settled after the lease had been taken back). Django's SMTP backend closes the
    connection after the 250 without failing the send (a server that drops the line at QUIT is not an error), so
    the only duplicate window is the one between the server's 250 and the settle's commit (docs/decisions.md)."""
    email = email_claim(email_id=email_id)
    if email is None:
        return "skipped"
    attempt = email.attempts
    try:
        _message(email).send()
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row; none may leave it stuck
        return _settle_failed(email, attempt=attempt, error=_error_text(exc), for_good=_refused_for_good(exc))
    return _settle_sent(email, attempt=attempt)


def email_leases_reclaim() -> int:
    """SENDING rows whose lease ran out (their worker was lost mid-send): back to QUEUED with backoff, or FAILED if
    that was the last attempt. The attempt stays counted, so a row that kills its worker still reaches FAILED."""
    now = timezone.now()
    expired = list(
        Email.objects.filter(status=EmailStatus.SENDING, lease_until__lt=now).values_list("pk", "attempts")[
            :500
        ]
    )
    for email_id, attempt in expired:
        Email.objects.filter(pk=email_id, status=EmailStatus.SENDING, attempts=attempt).update(
            status=EmailStatus.FAILED if attempt >= settings.NSS_EMAIL_MAX_ATTEMPTS else EmailStatus.QUEUED,
            lease_until=None,
            last_error=f"LeaseExpired: attempt {attempt} did not finish (worker lost during the send)",
            next_attempt_at=now + _retry_delay(attempt),
        )
        logger.warning("email %s: lease of attempt %s ran out; taken back", email_id, attempt)
    return len(expired)


def email_requeue_unsent(*, limit: int = 500) -> int:
    """The sweeper (Celery beat): take back expired leases, then hand QUEUED e-mails whose time has come to Celery.
    Rows never tried go first, then the oldest due: a batch of rows that keep failing (they back off and end
    FAILED) cannot hold back a healthy one. Each published row's next attempt moves on by the sweep grace, so a
    row waiting in the broker is not published again at every sweep. Returns how many were published."""
    email_leases_reclaim()
    now = timezone.now()
    due = list(
        Email.objects.filter(status=EmailStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("attempts", "next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    Email.objects.filter(pk__in=due, status=EmailStatus.QUEUED).update(
        next_attempt_at=now + datetime.timedelta(seconds=settings.NSS_EMAIL_SWEEP_GRACE_SECONDS)
    )
    for email_id in due:
        _enqueue(email_id)
    return len(due)


@transaction.atomic
def email_resend(*, email_id: int) -> Email | None:
    """Staff action: a failed (or still queued) e-mail is queued again from scratch; a sent one is sent again as a
    new row (a deliberate second copy, linked to the first). None, and nothing changes, while an attempt is under
    way (SENDING): it settles by itself, or the sweeper takes it back when its lease runs out."""
    email = Email.objects.select_for_update(no_key=True).get(pk=email_id)
    if email.status == EmailStatus.SENDING:
        return None
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


def email_application_start_date_changed_queue(
    *, to: str, context: dict, application_id: int | None = None
) -> Email:
    """【NSS】利用開始日変更のお知らせ (SPEC §8): the confirmed start date was corrected after approval."""
    return email_queue(
        kind="application_start_date_changed",
        to=to,
        context=context,
        topic="application",
        topic_id=application_id,
    )


def email_application_withdrawn_queue(*, to: str, context: dict, application_id: int | None = None) -> Email:
    """【NSS】申込取下げのお知らせ: the customer withdrew the application (取下げ)."""
    return email_queue(
        kind="application_withdrawn", to=to, context=context, topic="application", topic_id=application_id
    )
