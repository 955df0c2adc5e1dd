"""取下げ: the customer withdraws an application while it is 受付, never after a reviewer took it (SPEC §4)."""

import pytest
from django.urls import reverse

from applications.exceptions import IllegalTransition
from applications.models import ApplicationStatus
from applications.services import application_withdraw
from reviews.services import application_take
from tests.factories import submitted_application

pytestmark = pytest.mark.django_db


def test_customer_withdraws_a_received_application(customer_client, customer):
    application = submitted_application(contract=customer.contract)
    detail = reverse("applications:application-detail", kwargs={"pk": application.pk})
    assert "申込を取り下げる" in customer_client.get(detail).content.decode()

    response = customer_client.post(
        reverse("applications:withdraw", kwargs={"pk": application.pk}), follow=True
    )

    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    page = response.content.decode()
    assert "申込を取り下げました。" in page
    assert "申込を取り下げる" not in page


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
