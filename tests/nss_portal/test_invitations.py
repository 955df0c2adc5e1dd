"""Customer accounts by invitation (SPEC §11): the centre, or the office's own 管理者, invites a colleague by e-mail;
the person sets their own password through a single-use link; several accounts per office; an office's 管理者
manages its own office only (any other office's account is a 404); stopping an account ends its sessions."""

import datetime
import re

import pytest
import time_machine
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications import accounts, clock
from applications.exceptions import DomainError
from applications.models import EnrolmentToken, User
from notifications.models import Email
from tests.factories import ContractFactory, CustomerFactory, emailed_link, staff_in
from tests.html import Page

pytestmark = pytest.mark.django_db

INVITATION_PATH = re.compile(r"https?://[^\s\"<>]+?(/invitation/[A-Za-z0-9_-]{20,}/)")
PASSWORD = "yama-no-ue-no-ie-de"


def invitation_link(address: str) -> str:
    return emailed_link(address, kind="customer_invitation", path=INVITATION_PATH)


def accept(client: Client, link: str, password: str = PASSWORD):
    return client.post(link, {"password1": password, "password2": password}, follow=True)


def logs_in(username: str, password: str = PASSWORD) -> bool:
    return Client().post(reverse("login"), {"username": username, "password": password}).status_code == 302


@pytest.fixture
def office_admin():
    return CustomerFactory(contract=ContractFactory(user_code="1ANAC"), is_office_admin=True)


@pytest.fixture
def admin_client(office_admin):
    client = Client()
    client.force_login(office_admin)
    return client


def invite_as_admin(admin_client, **fields):
    values = {"username": "sato-hanako", "full_name": "佐藤 花子", "email": "sato@example.co.jp"} | fields
    return admin_client.post(reverse("office-accounts"), values, follow=True)


# --- the centre invites from the contract page --------------------------------------------------------------


def test_the_centre_invites_the_offices_first_administrator_who_sets_their_own_password(approver_client):
    contract = ContractFactory(user_code="7QZRX")
    response = approver_client.post(
        reverse("reviews:contract-account-invite", kwargs={"pk": contract.pk}),
        {
            "invite-username": "minato-admin",
            "invite-full_name": "港 太郎",
            "invite-email": "minato@example.co.jp",
            "invite-office_admin": "on",
        },
        follow=True,
    )
    page = Page(response)
    assert page.screen == "staff-contract"
    assert "minato-admin さんに招待のメールを minato@example.co.jp 宛てに送信しました" in page.text
    account = User.objects.get(username="minato-admin")
    assert (account.contract, account.is_office_admin, account.has_usable_password()) == (
        contract,
        True,
        False,
    )
    assert not logs_in("minato-admin", "")
    assert LogEntry.objects.filter(additional_data__action="customer_invite").count() == 1
    [email] = Email.objects.filter(kind="customer_invitation")
    assert (email.to, email.subject) == ("minato@example.co.jp", "【NSS】アカウントへのご招待")

    link = invitation_link("minato@example.co.jp")
    client = Client()
    page = Page(client.get(link))
    assert page.screen == "invitation"
    assert "minato-admin" in page.text
    assert Page(accept(client, link)).screen == "invitation-done"
    assert logs_in("minato-admin")
    again = client.get(link)
    assert again.status_code == 404 and Page(again).screen == "invitation-invalid"


# --- the office's 管理者 invites colleagues of the same office --------------------------------------------------


def test_an_office_administrator_invites_a_colleague_of_the_same_office(admin_client, office_admin):
    page = Page(admin_client.get(reverse("office-accounts")))
    assert page.screen == "office-accounts"
    assert "office_admin" not in {control.attrs.get("name") for control in page.root.find_all("input")}
    page = Page(invite_as_admin(admin_client))
    assert "sato-hanako さんに招待のメールを sato@example.co.jp 宛てに送信しました" in page.text
    colleague = User.objects.get(username="sato-hanako")
    assert (colleague.contract_id, colleague.is_office_admin) == (office_admin.contract_id, False)
    [row] = [tr for tr in page.root.find_all("tr") if tr.attrs.get("data-account") == "sato-hanako"]
    assert "招待中（パスワード未設定）" in row.text
    accept(Client(), invitation_link("sato@example.co.jp"))
    assert logs_in("sato-hanako")


def test_only_the_centre_makes_an_office_administrator(office_admin):
    with pytest.raises(DomainError) as refused:
        accounts.customer_invite(
            actor=office_admin,
            contract=office_admin.contract,
            username="another-admin",
            full_name="別 管理者",
            email="a@example.co.jp",
            office_admin=True,
        )
    assert refused.value.code == "admin_by_centre"
    assert not User.objects.filter(username="another-admin").exists()


def test_a_customer_who_is_not_the_administrator_may_not_invite(client):
    client.force_login(CustomerFactory())
    assert client.get(reverse("office-accounts")).status_code == 403
    assert client.post(reverse("office-accounts"), {"username": "x-y-z"}).status_code == 403
    assert not User.objects.filter(username="x-y-z").exists()


def test_an_administrator_cannot_touch_another_offices_accounts(admin_client, office_admin):
    stranger = CustomerFactory(contract=ContractFactory(), username="other-office")
    stranger.set_unusable_password()
    stranger.save()
    for name in ("office-account-resend", "office-account-stop"):
        assert admin_client.post(reverse(name, kwargs={"pk": stranger.pk})).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
    assert not EnrolmentToken.objects.filter(user=stranger).exists()
    with pytest.raises(DomainError):
        accounts.customer_invite(
            actor=office_admin, contract=stranger.contract, username="planted", full_name="x", email="p@x.jp"
        )


def test_a_user_id_in_use_is_refused_next_to_the_field(admin_client):
    CustomerFactory(username="Sato-Hanako")  # an older account, made before names were lower case only
    page = Page(invite_as_admin(admin_client, username="sato-hanako"))
    assert "ユーザーID sato-hanako はすでに使われています。" in page.field_errors("username")
    assert User.objects.filter(username__iexact="sato-hanako").count() == 1
    page = Page(invite_as_admin(admin_client, username="SATO HANAKO"))
    assert "ユーザーIDは英小文字・数字・記号（. _ -）の3～30文字で入力してください。" in page.field_errors(
        "username"
    )


def test_resending_gives_a_new_link_and_the_old_one_stops_working(admin_client):
    invite_as_admin(admin_client)
    first = invitation_link("sato@example.co.jp")
    colleague = User.objects.get(username="sato-hanako")
    admin_client.post(reverse("office-account-resend", kwargs={"pk": colleague.pk}))
    second = invitation_link("sato@example.co.jp")
    assert first != second
    assert Client().get(first).status_code == 404
    accept(Client(), second)
    response = admin_client.post(reverse("office-account-resend", kwargs={"pk": colleague.pk}), follow=True)
    assert "このアカウントはすでにパスワードを設定しています。" in Page(response).text


def test_stopping_an_account_ends_its_sessions_and_voids_its_links(admin_client, office_admin):
    colleague = CustomerFactory(contract=office_admin.contract, username="leaving")
    elsewhere = Client()
    elsewhere.force_login(colleague)
    assert elsewhere.get(reverse("menu")).status_code == 200
    response = admin_client.post(reverse("office-account-stop", kwargs={"pk": colleague.pk}), follow=True)
    assert "leaving のアカウントを停止しました。" in Page(response).text
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert elsewhere.get(reverse("menu")).status_code == 302
    assert LogEntry.objects.filter(additional_data__action="customer_account_stop").count() == 1
    with pytest.raises(DomainError) as refused:
        accounts.customer_account_stop(actor=office_admin, account=office_admin)
    assert refused.value.code == "self_stop"


def test_an_invitation_expires(approver, settings):
    settings.NSS_CUSTOMER_INVITATION_HOURS = 2
    contract = ContractFactory()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        accounts.customer_invite(
            actor=approver,
            contract=contract,
            username="late-one",
            full_name="遅 太郎",
            email="late@example.jp",
        )
        link = invitation_link("late@example.jp")
        traveller.shift(datetime.timedelta(hours=2, minutes=1))
        assert Client().get(link).status_code == 404


def test_a_reviewer_may_not_invite(reviewer):
    with pytest.raises(DomainError) as refused:
        accounts.customer_invite(
            actor=staff_in("reviewer"),
            contract=ContractFactory(),
            username="nope",
            full_name="x",
            email="n@example.jp",
        )
    assert refused.value.code == "permission_denied"


@hypothesis_settings(max_examples=30)
@given(username=st.text(max_size=40), email=st.text(max_size=60))
def test_any_text_in_the_invitation_is_a_message_or_an_invitation_never_an_error(
    admin_client, username, email
):
    response = admin_client.post(
        reverse("office-accounts"), {"username": username, "full_name": "名前", "email": email}
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Page(response).screen == "office-accounts"
