"""Staff accounts, managed by approvers (SPEC §1): create with one-time credentials, change role, stop, reset."""

import base64

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import User
from applications.roles import role_of
from tests.factories import otp_login
from tests.html import Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver_client(approver):
    return otp_login(Client(), approver)


def create(client, **overrides):
    data = {
        "username": "tanaka",
        "full_name": "田中 一郎",
        "email": "tanaka@naccs.example",
        "role": "reviewer",
    }
    return client.post(reverse("reviews:accounts"), {**data, **overrides})


def field_text(response, name):
    (node,) = Page(response).root.find_all(**{"data-field": name})
    return node.text


def test_an_approver_creates_a_staff_account_that_can_log_in_with_the_credentials_shown_once(
    approver_client, approver
):
    response = create(approver_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password, secret = field_text(response, "password"), field_text(response, "totp_secret")
    account = User.objects.get(username="tanaka")
    assert account.is_staff and account.contract_id is None and role_of(account) == "reviewer"
    assert account.check_password(password)
    assert password not in account.password  # stored as a hash only
    entry = LogEntry.objects.get(object_id=account.pk, additional_data__action="staff_account_create")
    assert entry.actor == approver

    code = f"{totp(base64.b32decode(secret)):06d}"
    response = Client().post(
        reverse("reviews:login"), {"username": "tanaka", "password": password, "otp_token": code}
    )
    assert response.status_code == 302


def test_a_taken_user_id_is_refused_next_to_the_field(approver_client, reviewer):
    response = create(approver_client, username=reviewer.username)
    assert "このユーザーIDは既に使われています。" in Page(response).field_errors("username")
    assert User.objects.filter(username=reviewer.username).count() == 1


def test_role_change_and_stopping_an_account(approver_client, reviewer):
    url = reverse("reviews:account", kwargs={"pk": reviewer.pk})
    approver_client.post(url, {"role": "approver", "is_active": "on"})
    reviewer.refresh_from_db()
    assert role_of(reviewer) == "approver" and reviewer.has_perm("applications.approve_application")
    approver_client.post(url, {"role": "approver"})  # is_active unchecked
    reviewer.refresh_from_db()
    assert not reviewer.is_active
    assert (
        LogEntry.objects.filter(object_id=reviewer.pk, additional_data__action="staff_account_update").count()
        == 2
    )


def test_nobody_stops_their_own_account(approver_client, approver):
    response = approver_client.post(
        reverse("reviews:account", kwargs={"pk": approver.pk}), {"role": "approver"}
    )
    assert "自分のアカウントは停止できません。" in Page(response).field_errors("is_active")
    approver.refresh_from_db()
    assert approver.is_active


def test_reset_issues_new_credentials_and_the_old_ones_stop_working(approver_client, reviewer):
    old_key = TOTPDevice.objects.get(user=reviewer).key
    response = approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}))
    reviewer.refresh_from_db()
    assert reviewer.check_password(field_text(response, "password"))
    assert TOTPDevice.objects.get(user=reviewer).key != old_key
    assert not reviewer.check_password("correct-horse-battery")


def test_reviewers_and_customers_cannot_manage_accounts(staff_client, customer_client, reviewer):
    for client in (staff_client, customer_client):
        assert client.get(reverse("reviews:accounts")).status_code == 403
        assert create(client).status_code == 403
        assert client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk})).status_code == 403
    assert not User.objects.filter(username="tanaka").exists()


def test_customer_accounts_are_not_staff_accounts_here(approver_client, customer):
    assert approver_client.get(reverse("reviews:account", kwargs={"pk": customer.pk})).status_code == 404
