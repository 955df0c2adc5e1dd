"""A real Celery worker (subprocess) against the real Redis and PostgreSQL, sending to an SMTP sink (aiosmtpd):
file an application, decide it, and exactly the expected messages arrive (SPEC §5)."""

import time

import pytest

from notifications.models import Email, EmailStatus
from reviews import services as review_services
from tests.factories import staff_in, submitted_application

pytestmark = [
    pytest.mark.usefixtures("require_postgres", "require_redis"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.real_worker,
]


def wait_sent(count: int, timeout: float = 30) -> list[Email]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        emails = list(Email.objects.order_by("pk"))
        if len(emails) == count and all(e.status == EmailStatus.SENT for e in emails):
            return emails
        time.sleep(0.2)
    raise AssertionError(f"not all rows SENT: {list(Email.objects.values('kind', 'status', 'last_error'))}")


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_filed_and_decided_application_delivers_exactly_its_two_emails(
    decision, smtp_sink, celery_worker_proc
):
    celery_worker_proc(smtp_port=smtp_sink.port)
    application = submitted_application(identifiers=("Q1Z", ""))
    [receipt] = smtp_sink.wait_for(1)

    reviewer = staff_in("reviewer")
    taken = review_services.application_take(application=application, actor=reviewer)
    if decision == "approve":
        review_services.application_approve(application=taken, actor=staff_in("approver"))
        expected_subject = "【NSS】利用申込確認完了のお知らせ"
        expected_words = ["様", "/login/?next=/applications/"]
    else:
        review_services.application_reject(application=taken, actor=reviewer, reason="書類不備のため")
        expected_subject = f"【NSS】不受理のお知らせ（申込受付番号 {application.reception_number}）"
        expected_words = ["書類不備のため"]
    smtp_sink.wait_for(2)
    # Both rows SENT after one claimed attempt each: no later task can send either again (a send needs a claim,
    # a claim needs a QUEUED row), so what the sink holds now is all there will be.
    assert all(row.attempts == 1 for row in wait_sent(2))
    messages = smtp_sink.received()
    assert len(messages) == 2, [m.subject for m in messages]
    receipt, decided = messages

    number = application.reception_number
    assert receipt.rcpt_tos == ["applicant@example.com"]
    assert receipt.subject == f"【NSS】利用申込受付完了のお知らせ（申込受付番号 {number}）"
    assert number in receipt.text
    assert number in receipt.html
    assert "Q1Z" in receipt.text

    assert decided.rcpt_tos == ["applicant@example.com"]
    assert decided.subject == expected_subject
    assert number in decided.text
    assert number in decided.html
    for word in expected_words:
        assert word in decided.text
    for message in messages:
        assert str(message.message["To"]) == "applicant@example.com"
        assert message.message.get_content_type() == "multipart/alternative"

    rows = wait_sent(2)
    assert [row.kind for row in rows] == [
        "application_received",
        "application_approved" if decision == "approve" else "application_rejected",
    ]
    assert [row.message_id for row in rows] == [m.message_id for m in messages]
    assert all(row.attempts == 1 and row.sent_at is not None for row in rows)
