"""E-mail to customers (SPEC §5).

Callers pass plain data (address and template context); this app imports none of the others.
Messages are rendered from templates/notifications/<name>.{txt,html} and sent after the caller's transaction
commits, so a rolled-back submission sends nothing. The reliable outbox (a row per e-mail, Celery delivery,
retries and the beat sweeper) replaces the direct send below.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def _render(template: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"notifications/{template}_subject.txt", context).strip()
    text = render_to_string(f"notifications/{template}.txt", context)
    html = render_to_string(f"notifications/{template}.html", context)
    return subject, text, html


def _send_after_commit(*, template: str, to: str, context: dict) -> None:
    subject, text, html = _render(template, context)

    def send():
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)


def email_application_received_queue(*, to: str, context: dict) -> None:
    """受付完了: reception number, the IDs asked, the desired start date, that review may take a while."""
    _send_after_commit(template="application_received", to=to, context=context)


def email_application_approved_queue(*, to: str, context: dict) -> None:
    """【NSS】利用申込確認完了のお知らせ: addressed like the guide, with the login link to this application's 詳細."""
    _send_after_commit(template="application_approved", to=to, context=context)


def email_application_rejected_queue(*, to: str, context: dict) -> None:
    """不受理のお知らせ: the reason and how to file again."""
    _send_after_commit(template="application_rejected", to=to, context=context)
