"""Screens 1–8 through Django's test client: the whole filing journey without JavaScript."""

import pytest
from django.core import mail
from django.urls import reverse

from applications import clock, rules
from applications.models import Application, ApplicationStatus
from tests.factories import PASSWORD, method
from tests.html import screen

pytestmark = pytest.mark.django_db


def test_customer_files_an_application_through_screens_1_to_7(
    client, customer, django_capture_on_commit_callbacks
):
    response = client.get(reverse("login"))
    assert screen(response) == "login"
    response = client.post(
        reverse("login"), {"username": customer.username, "password": PASSWORD}, follow=True
    )
    assert screen(response) == "menu"
    assert customer.contract.user_code in response.content.decode()

    assert screen(client.get(reverse("guidance"))) == "guidance"
    response = client.post(reverse("applications:start"), follow=True)
    assert screen(response) == "applicant"
    draft = Application.objects.get(created_by=customer, status=ApplicationStatus.DRAFT)
    # Prefilled from the account.
    assert customer.email in response.content.decode()

    response = client.post(
        reverse("applications:applicant", kwargs={"pk": draft.pk}),
        {
            "name": "山田 花子",
            "department": "通関部",
            "phone": "０３－１２３４－５６７８",
            "email": "hanako@example.com",
        },
        follow=True,
    )
    assert screen(response) == "add-ids"
    draft.refresh_from_db()
    assert draft.applicant_phone == "03-1234-5678"

    start = rules.earliest_start_date(clock.today())
    url = reverse("applications:add-ids", kwargs={"pk": draft.pk})
    for method_code, identifier, name in [
        ("interactive", "ｑ１ｚ", "通関 一郎"),
        ("netnaccs", "", "通関 一郎"),
    ]:
        response = client.post(
            url,
            {
                "add": "1",
                "desired_start_date": start.isoformat(),
                "processing_method": method(method_code).pk,
                "desired_identifier": identifier,
                "broker_name": name,
            },
            follow=True,
        )
        assert screen(response) == "add-ids"
    assert [i.desired_identifier for i in draft.items.order_by("id")] == ["Q1Z", ""]

    response = client.post(url, {"proceed": "1", "desired_start_date": start.isoformat()}, follow=True)
    assert screen(response) == "confirm"
    assert "Q1Z" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("applications:confirm", kwargs={"pk": draft.pk}), follow=True)
    assert screen(response) == "complete"
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert draft.reception_number in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["hanako@example.com"]
    assert draft.reception_number in mail.outbox[0].subject

    response = client.get(reverse("applications:application-list"))
    assert screen(response) == "application-list"
    assert draft.reception_number in response.content.decode()
