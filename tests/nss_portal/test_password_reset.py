"""「パスワードをお忘れの方」 (SPEC §11): a reset link by e-mail through the outbox, the same answer for any address,
rate-limited, single-use and expiring, and a reset ends the account's other sessions."""

import datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications import clock
from applications.models import EnrolmentToken, User
from notifications import services as notification_services
from notifications.models import Email, EmailStatus
from tests.factories import (
    PASSWORD,
    RESET_PATH,
    ContractFactory,
    CustomerFactory,
    StaffFactory,
    password_reset_link,
)
from tests.html import Page

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "umi-no-mieru-oka-de"
SAME_ANSWER = "入力されたメールアドレスがNSSのアカウントに登録されている場合は、パスワード再設定用のリンクをお送りしました。"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def ask(client: Client, email: str):
    return client.post(reverse("password-reset"), {"email": email}, follow=True)


reset_link = password_reset_link


def logged_in(client: Client) -> bool:
    return client.get(reverse("menu")).status_code == 200


def test_the_login_screen_offers_the_reset_and_the_reset_screen_asks_for_the_address(client):
    login = Page(client.get(reverse("login")))
    [link] = [a for a in login.root.find_all("a") if a.text.strip() == "パスワードをお忘れの方"]
    assert link.attrs["href"] == reverse("password-reset")
    page = Page(client.get(link.attrs["href"]))
    assert page.screen == "password-reset"
    assert page.form_of("再設定用のリンクを送信する").attrs["method"].lower() == "post"


def test_a_customer_gets_one_single_use_link_by_e_mail_through_the_outbox(client):
    customer = CustomerFactory(email="yamada@example.co.jp")
    response = ask(client, "Yamada@Example.co.jp ")
    page = Page(response)
    assert page.screen == "password-reset-sent"
    assert SAME_ANSWER in page.text
    [email] = Email.objects.filter(kind="customer_password_reset")
    assert (email.to, email.topic, email.topic_id) == (
        "yamada@example.co.jp",
        "customer_account",
        customer.pk,
    )
    assert email.subject == "【NSS】パスワード再設定のご案内"
    assert customer.username in email.body_text
    [token] = EnrolmentToken.objects.filter(user=customer, purpose="password_reset")
    assert reset_link(customer.email).split("/")[-2] not in token.token_hash  # only the hash is kept


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(client):
    CustomerFactory(email="yamada@example.co.jp")
    known = ask(Client(), "yamada@example.co.jp")
    unknown = ask(client, "nobody@example.co.jp")
    assert [url for url, _status in unknown.redirect_chain] == [url for url, _status in known.redirect_chain]
    assert Page(unknown).text == Page(known).text
    assert Email.objects.filter(to="nobody@example.co.jp").count() == 0
    assert EnrolmentToken.objects.count() == 1


def test_staff_and_stopped_customer_accounts_get_no_link(client):
    StaffFactory(email="staff@nacc.example")
    CustomerFactory(email="stopped@example.co.jp", is_active=False)
    for address in ("staff@nacc.example", "stopped@example.co.jp"):
        assert Page(ask(client, address)).screen == "password-reset-sent"
    assert not Email.objects.filter(kind="customer_password_reset").exists()
    assert not EnrolmentToken.objects.exists()


def test_two_accounts_with_one_address_each_get_their_own_link(client):
    contract = ContractFactory()
    first = CustomerFactory(contract=contract, email="office@example.co.jp")
    second = CustomerFactory(contract=contract, email="office@example.co.jp")
    ask(client, "office@example.co.jp")
    rows = Email.objects.filter(kind="customer_password_reset").order_by("topic_id")
    assert [row.topic_id for row in rows] == sorted([first.pk, second.pk])
    assert first.username in rows[0].body_text and second.username not in rows[0].body_text


def test_the_link_sets_a_new_password_once_and_ends_every_other_session(client):
    customer = CustomerFactory(email="yamada@example.co.jp")
    elsewhere = Client()
    elsewhere.force_login(customer)
    assert logged_in(elsewhere)
    ask(client, customer.email)
    link = reset_link(customer.email)

    page = Page(client.get(link))
    assert page.screen == "password-reset-confirm"
    assert customer.username in page.text
    form = page.form_of("パスワードを設定する")
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)
    assert Page(response).screen == "password-reset-done"
    assert form is not None

    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD) and not customer.check_password(PASSWORD)
    assert not logged_in(elsewhere), "the other session survived the reset"
    fresh = Client()
    assert (
        fresh.post(reverse("login"), {"username": customer.username, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert LogEntry.objects.filter(additional_data__action="customer_password_reset").count() == 1

    again = client.get(link)
    assert again.status_code == 404
    assert Page(again).screen == "password-reset-invalid"
    assert client.post(link, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 404
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_a_weak_or_mismatched_password_is_refused_next_to_the_field_and_the_link_still_works(client):
    customer = CustomerFactory(email="yamada@example.co.jp")
    ask(client, customer.email)
    link = reset_link(customer.email)
    weak = Page(client.post(link, {"password1": "12345678", "password2": "12345678"}))
    assert weak.screen == "password-reset-confirm"
    assert weak.field_errors("password1")
    mismatched = Page(client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}))
    assert "確認用のパスワードが一致しません。" in mismatched.field_errors("password2")
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
    assert Page(client.get(link)).screen == "password-reset-confirm"


def test_a_link_expires_and_a_newer_one_voids_the_older(client, settings):
    settings.NSS_PASSWORD_RESET_MINUTES = 30
    customer = CustomerFactory(email="yamada@example.co.jp")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        ask(client, customer.email)
        first = reset_link(customer.email)
        ask(client, customer.email)
        second = reset_link(customer.email)
        assert first != second
        assert client.get(first).status_code == 404
        assert client.get(second).status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        assert client.get(second).status_code == 404


def test_beyond_the_limit_the_answer_is_the_same_and_nothing_is_sent(client, settings):
    settings.NSS_PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.NSS_PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    customer = CustomerFactory(email="yamada@example.co.jp")
    for _ in range(4):
        assert SAME_ANSWER in Page(ask(client, customer.email)).text
    assert Email.objects.filter(kind="customer_password_reset").count() == 2
    # One client address asking for many addresses is limited too.
    others = [CustomerFactory(email=f"other{n}@example.co.jp") for n in range(3)]
    for other in others:
        ask(client, other.email)
    assert Email.objects.filter(kind="customer_password_reset").count() == 2


def test_once_sent_the_outbox_keeps_no_copy_of_the_link(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="yamada@example.co.jp")
    ask(client, customer.email)
    [row] = Email.objects.filter(kind="customer_password_reset")
    assert notification_services.email_send(email_id=row.pk) == "sent"
    row.refresh_from_db()
    assert row.status == EmailStatus.SENT
    assert "/password-reset/" not in row.body_text + row.body_html
    [sent] = mail.outbox
    assert RESET_PATH.search(sent.body)


@hypothesis_settings(max_examples=40)
@given(st.text(max_size=300))
def test_any_text_as_the_address_is_a_message_next_to_the_field_or_the_same_answer(text):
    client = Client()
    response = client.post(reverse("password-reset"), {"email": text})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Page(response).screen == "password-reset"
    assert User.objects.filter(is_staff=False).count() == 0
