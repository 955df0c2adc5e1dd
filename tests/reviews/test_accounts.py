"""Staff accounts, managed by approvers (SPEC §1): create (the owner enrols through an e-mailed link, SPEC §10),
change role, stop, reset. The enrolment itself is in tests/reviews/test_enrolment.py."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import User
from applications.roles import role_of
from notifications.models import Email
from tests.factories import (
    ENROL_PASSWORD,
    CustomerFactory,
    StaffFactory,
    enrol,
    enrolment_link,
    staff_login_with,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def create(client, **overrides):
    data = {
        "username": "tanaka",
        "full_name": "田中 一郎",
        "email": "tanaka@naccs.example",
        "role": "reviewer",
    }
    return client.post(reverse("reviews:accounts"), {**data, **overrides})


def test_an_approver_creates_a_staff_account_whose_owner_enrols_through_the_emailed_link(
    approver_client, approver, frozen_clock
):
    response = create(approver_client)
    account = User.objects.get(username="tanaka")
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:account", kwargs={"pk": account.pk})
    assert account.is_staff and account.contract_id is None and role_of(account) == "reviewer"
    assert account.email == "tanaka@naccs.example"
    assert not account.has_usable_password()
    assert not TOTPDevice.objects.filter(user=account).exists()
    entry = LogEntry.objects.get(object_id=account.pk, additional_data__action="staff_account_create")
    assert entry.actor == approver
    assert Email.objects.filter(kind="staff_enrolment", to="tanaka@naccs.example").count() == 1

    _response, secret = enrol(Client(), enrolment_link("tanaka@naccs.example"))
    frozen_clock.shift(datetime.timedelta(seconds=30))
    assert staff_login_with(Client(), "tanaka", ENROL_PASSWORD, secret).status_code == 302


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


def test_reset_sends_a_new_link_and_the_old_credentials_stop_working(approver_client, reviewer):
    response = approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}))
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.check_password("correct-horse-battery")
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert Email.objects.filter(kind="staff_enrolment", to=reviewer.email).count() == 1
    assert LogEntry.objects.filter(
        object_id=reviewer.pk, additional_data__action="staff_credentials_reset"
    ).exists()


def test_an_account_without_an_address_gets_no_link(approver_client, reviewer):
    reviewer.email = ""
    reviewer.save()
    response = approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}), follow=True)
    assert "メールアドレスが登録されていない" in Page(response).page_errors()
    reviewer.refresh_from_db()
    assert reviewer.check_password("correct-horse-battery"), "nothing was reset"


def test_the_staff_email_is_required(approver_client):
    response = create(approver_client, email="")
    assert "このフィールドは必須です。" in Page(response).field_errors("email")
    assert not User.objects.filter(username="tanaka").exists()


@pytest.mark.parametrize(
    "address", ["approver@nacc.example", "Approver@NACC.example", "REVIEWER@nacc.example"]
)
def test_the_staff_email_is_unique_among_staff_whatever_its_case(approver_client, reviewer, address):
    """The creator cannot send the new account's link to their own (or another staff member's) mailbox."""
    response = create(approver_client, email=address)
    assert "このメールアドレスは別のスタッフアカウントで使われています。" in Page(response).field_errors(
        "email"
    )
    assert not User.objects.filter(username="tanaka").exists()
    assert not Email.objects.filter(kind="staff_enrolment").exists()


def test_a_customer_may_share_an_address_with_a_staff_member(approver_client):
    CustomerFactory(email="tanaka@naccs.example")
    assert create(approver_client).status_code == 302


def test_the_database_refuses_two_staff_accounts_with_one_address(reviewer):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffFactory(email=reviewer.email.upper())


def test_customer_accounts_are_not_staff_accounts_here(approver_client, customer):
    assert approver_client.get(reverse("reviews:account", kwargs={"pk": customer.pk})).status_code == 404
