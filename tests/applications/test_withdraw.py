"""取下げ: the customer withdraws an application while it is 受付, never after a reviewer took it (SPEC §4)."""

import pytest
from django.core import mail
from django.urls import reverse

from applications.exceptions import IllegalTransition
from applications.models import ApplicationStatus
from applications.services import application_withdraw
from notifications.models import Email
from reviews.services import application_take
from tests.factories import submitted_application
from tests.html import Page

pytestmark = pytest.mark.django_db


def test_customer_withdraws_a_received_application_after_a_confirmation_and_is_emailed(
    customer_client, customer, django_capture_on_commit_callbacks
):
    application = submitted_application(contract=customer.contract)
    detail = reverse("applications:application-detail", kwargs={"pk": application.pk})
    url = reverse("applications:withdraw", kwargs={"pk": application.pk})
    [link] = [a for a in Page(customer_client.get(detail)).root.find_all("a") if a.text == "申込を取り下げる"]
    assert link.attrs["href"] == url  # a link to the confirmation, not a button that withdraws at once

    confirm = Page(customer_client.get(url))
    assert confirm.screen == "withdraw-confirm"
    assert "取り下げた申込は元に戻せません" in confirm.text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED  # asking changes nothing

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(url, follow=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    page = response.content.decode()
    assert "申込を取り下げました。" in page
    assert "申込を取り下げる" not in page
    [message] = mail.outbox
    assert message.subject == f"【NSS】申込取下げのお知らせ（申込受付番号 {application.reception_number}）"
    assert message.to == [application.applicant_email]
    assert Email.objects.filter(kind="application_withdrawn", topic_id=application.pk).count() == 1


def test_the_confirmation_of_one_no_longer_withdrawable_goes_back_with_a_message(
    customer_client, customer, reviewer
):
    application = submitted_application(contract=customer.contract)
    application_take(application=application, actor=reviewer)
    response = customer_client.get(
        reverse("applications:withdraw", kwargs={"pk": application.pk}), follow=True
    )
    assert Page(response).screen == "application-detail"
    assert "この申込は取り下げできません。" in Page(response).page_errors()


def test_withdrawal_after_a_reviewer_took_it_is_refused_and_changes_nothing(
    customer_client, customer, reviewer
):
    application = submitted_application(contract=customer.contract)
    application_take(application=application, actor=reviewer)
    assert (
        "申込を取り下げる"
        not in customer_client.get(
            reverse("applications:application-detail", kwargs={"pk": application.pk})
        ).content.decode()
    )

    response = customer_client.post(
        reverse("applications:withdraw", kwargs={"pk": application.pk}), follow=True
    )

    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert "できません" in response.content.decode()
    with pytest.raises(IllegalTransition):
        application_withdraw(application=application, actor=customer)
