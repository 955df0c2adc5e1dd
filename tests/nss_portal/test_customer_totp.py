"""Optional TOTP for customer accounts, required per contract (SPEC §11): a customer of a contract that says so
enrols their own authenticator at the first login (QR code or the secret) and gives a code at every login; other
contracts' customers log in with the password alone."""

import datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import ProcessingMethod
from reviews import services as review_services
from tests.factories import PASSWORD, ContractFactory, CustomerFactory, code_for, enrolment_secret, totp_code
from tests.html import Page

pytestmark = pytest.mark.django_db


def log_in(client: Client, customer, next_url: str = ""):
    data = {"username": customer.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, follow=True)


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_without_the_requirement_the_password_is_enough(client):
    customer = CustomerFactory(contract=ContractFactory(customer_totp_required=False))
    assert Page(log_in(client, customer)).screen == "menu"
    response = client.get(reverse("login-otp"))
    assert response.status_code == 302 and response.url == reverse("menu")


def test_the_first_login_enrols_the_customers_own_authenticator_then_every_login_asks_a_code(client):
    customer = CustomerFactory(contract=ContractFactory(customer_totp_required=True))
    response = log_in(client, customer, next_url=reverse("applications:application-list"))
    page = Page(response)
    assert page.screen == "login-otp"
    assert page.root.find_all(**{"data-field": "qr-code"}), "the first time, the QR code to enrol"
    secret = enrolment_secret(response)
    # Until a code is given, every customer page sends back to this step.
    menu = client.get(reverse("menu"))
    assert menu.status_code == 302 and menu.url.startswith(reverse("login-otp"))

    with time_machine.travel(datetime.datetime.now(datetime.UTC), tick=True) as traveller:
        refused = Page(client.post(reverse("login-otp"), {"otp_token": wrong_code(code_for(secret))}))
        assert "確認コードが正しくありません" in refused.field_errors("otp_token")
        assert not TOTPDevice.objects.filter(user=customer, confirmed=True).exists()
        traveller.shift(datetime.timedelta(seconds=5))  # django-otp makes a guesser wait after a wrong code
        response = client.post(
            reverse("login-otp"),
            {"otp_token": code_for(secret), "next": reverse("applications:application-list")},
        )
    assert response.status_code == 302 and response.url == reverse("applications:application-list")
    assert client.get(reverse("menu")).status_code == 200
    assert TOTPDevice.objects.filter(user=customer, confirmed=True).count() == 1

    # A later login, in a later 30-second step than the one used above (that code is never taken twice). The
    # enrolment ran up to 5 s ahead of now, so one step (31 s) ahead of now could still be the step it used.
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=65), tick=True):
        again = Client()
        page = Page(log_in(again, customer))
        assert page.screen == "login-otp"
        assert not page.root.find_all(**{"data-field": "qr-code"}), "an enrolled app is not shown again"
        answered = again.post(reverse("login-otp"), {"otp_token": totp_code(customer)}, follow=True)
        assert Page(answered).screen == "menu"


def test_a_code_of_another_shape_is_refused_next_to_the_field(client):
    customer = CustomerFactory(contract=ContractFactory(customer_totp_required=True))
    log_in(client, customer)
    page = Page(client.post(reverse("login-otp"), {"otp_token": "12ab"}))
    assert "確認コードは6桁の数字で入力してください。" in page.field_errors("otp_token")


def test_an_unsafe_next_is_ignored(client):
    customer = CustomerFactory(contract=ContractFactory(customer_totp_required=True))
    response = log_in(client, customer)
    secret = enrolment_secret(response)
    response = client.post(
        reverse("login-otp"), {"otp_token": code_for(secret), "next": "https://evil.example/"}
    )
    assert response.url == reverse("menu")


def test_requiring_it_takes_effect_at_the_next_request_of_a_running_session(client, approver):
    contract = ContractFactory(customer_totp_required=False)
    customer = CustomerFactory(contract=contract)
    log_in(client, customer)
    assert client.get(reverse("menu")).status_code == 200
    review_services.contract_update(
        actor=approver,
        contract=contract,
        company_name=contract.company_name,
        office_name=contract.office_name,
        processing_methods=list(ProcessingMethod.objects.all()),
        customer_totp_required=True,
    )
    entry = LogEntry.objects.get(additional_data__action="contract_update")
    assert entry.changes_dict["customer_totp_required"] == [False, True]
    response = client.get(reverse("menu"))
    assert response.status_code == 302 and response.url.startswith(reverse("login-otp"))
