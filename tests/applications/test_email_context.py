"""Every e-mail about an application is given one context (applications/email_context.py): the receipt, the
confirmation and the rejection alike."""

import pytest
from django.urls import reverse
from django.utils import translation

import applications.services as application_services
import reviews.services as review_services
from applications.email_context import application_email_context
from tests.factories import submitted_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The context each application e-mail was queued with, by kind."""
    contexts = {}

    def capture(kind, queue):
        def fake(*, to, context, application_id=None):
            contexts[kind] = dict(context)  # as given: rendering adds to the dict
            return queue(to=to, context=context, application_id=application_id)

        return fake

    for module, name in [
        (application_services, "email_application_received_queue"),
        (review_services, "email_application_approved_queue"),
        (review_services, "email_application_rejected_queue"),
    ]:
        monkeypatch.setattr(module, name, capture(name.split("_")[2], getattr(module, name)))
    return contexts


def test_receipt_confirmation_and_rejection_share_one_context(sent, reviewer, settings, freeze):
    settings.NSS_BASE_URL = "https://nss.example/"
    with translation.override("en"):  # the screen's language changes nothing in the e-mails
        approved = submitted_application(methods=["interactive", "netnaccs"], identifiers=["Q1Z", ""])
        received = sent["received"]
        review_services.application_take(application=approved, actor=reviewer)
        review_services.application_approve(application=approved, actor=reviewer)
        rejected = submitted_application()
        review_services.application_take(application=rejected, actor=reviewer)
        review_services.application_reject(
            application=rejected, actor=reviewer, reason="資格を確認できません。"
        )
    approved.refresh_from_db()
    rejected.refresh_from_db()

    assert sent["approved"] == application_email_context(approved)
    assert sent["rejected"] == application_email_context(rejected, reason="資格を確認できません。")
    # The receipt is the same builder, before anything was decided.
    assert received == {**application_email_context(approved), "start_date": ""}

    detail = reverse("applications:application-detail", kwargs={"pk": approved.pk})
    context = sent["approved"]
    assert context["login_url"] == f"https://nss.example{reverse('login')}?next={detail}"
    assert context["reception_number"] == approved.reception_number
    assert (context["company_name"], context["office_name"]) == (
        approved.contract.company_name,
        approved.contract.office_name,
    )
    assert (context["applicant_name"], context["applicant_department"]) == (
        approved.applicant_name,
        approved.applicant_department,
    )
    assert [(item["processing_method"], item["desired_identifier"]) for item in context["items"]] == [
        ("インタラクティブ処理方式", "Q1Z"),
        ("netNACCS", ""),
    ]
    start, desired = approved.start_date, approved.desired_start_date
    assert context["start_date"] == f"{start.year}年{start.month}月{start.day}日"
    assert context["desired_start_date"] == f"{desired.year}年{desired.month}月{desired.day}日"
