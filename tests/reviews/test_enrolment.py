"""Staff enrolment (SPEC §10): nobody holds another person's working credentials.

Creating or resetting a staff account gives the approver nothing that logs in: the account has no usable password
and no authenticator until its owner opens the single-use link e-mailed to their own address, sets their own
password and confirms their own authenticator. Stopping or resetting an account ends its sessions."""

import base64
import datetime
import hashlib
import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import authenticators, clock
from applications.models import ApplicationStatus, EnrolmentToken, User
from notifications.models import Email
from reviews import services as review_services
from tests.factories import (
    ENROL_PASSWORD,
    ENROL_PATH,
    FROZEN_AT,
    PASSWORD,
    StaffFactory,
    approve_on_screens,
    code_for,
    enrol,
    enrolment_link,
    enrolment_secret,
    otp_login,
    staff_in,
    staff_login_with,
    staff_with_device,
    submitted_application,
)
from tests.html import Page
from tests.threads import race

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

STAFF_LOGIN_ERROR = "ユーザーID、パスワードまたは確認コードが正しくありません。"
INVALID_LINK = "このリンクは無効か、有効期限が切れています。"
SUBJECT = "【NSS】スタッフアカウントの登録のお願い"
# FROZEN_AT (2026-11-16 10:00 JST) + NSS_STAFF_ENROLMENT_HOURS (72)
EXPIRES_TEXT = "2026年11月19日 10:00"
NEW_STAFF = {
    "username": "tanaka",
    "full_name": "田中 一郎",
    "email": "tanaka@naccs.example",
    "role": "reviewer",
}
BASE32 = re.compile(r"[A-Z2-7]{16,}")


def create(client, **overrides):
    return client.post(reverse("reviews:accounts"), {**NEW_STAFF, **overrides})


def raw_token(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def html_of(*responses) -> str:
    return "\n".join(response.content.decode() for response in responses)


def words(html: str) -> set[str]:
    """Every string on the pages that could be typed as a password."""
    text = re.sub(r"<[^>]+>", " ", html) + " " + " ".join(re.findall(r'="([^"]*)"', html))
    return {word for word in re.split(r"[\s\"'<>]+", text) if len(word) >= 6}


def candidate_secrets(html: str) -> set[bytes]:
    """Every base32 run on the pages (spaces removed, so a grouped secret counts too), decoded."""
    found = set()
    for match in BASE32.findall(re.sub(r"\s+", "", html)):
        for start in range(0, min(len(match) - 15, 8)):
            chunk = match[start:]
            try:
                found.add(base64.b32decode(chunk + "=" * (-len(chunk) % 8)))
            except ValueError:
                continue
    return found


def assert_nothing_shown_logs_in_as(account: User, html: str) -> None:
    """No string on the pages is the account's password, and no secret on them is its authenticator's."""
    account.refresh_from_db()
    for word in words(html):
        assert not account.check_password(word), f"{word!r}, shown to the creator, is a working password"
    shown_codes = {code_for(secret) for secret in candidate_secrets(html)}
    for device in TOTPDevice.objects.filter(user=account):
        assert base64.b32encode(device.bin_key).decode() not in re.sub(r"\s+", "", html)
        assert code_for(device.bin_key) not in shown_codes, "a working TOTP secret was shown to the creator"


def default_start(application) -> str:
    return review_services.confirmed_start_date_default(application, today=clock.today()).isoformat()


def approve(client, application):
    return approve_on_screens(client, application, start_date=default_start(application))


def wrong_code(secret: bytes) -> str:
    """A well-formed code that is not valid now (nor one step either side)."""
    near = {f"{totp(secret, drift=drift):06d}" for drift in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def queue_reached(client) -> bool:
    response = client.get(reverse("reviews:queue"))
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("reviews:login"))
        return False
    assert response.status_code == 200
    return True


# --- the finding: an approver made an account, saw its credentials and used them ---------------------------------


def test_the_creator_never_sees_a_working_credential_of_the_account_they_create(approver_client):
    created = create(approver_client)
    assert created.status_code == 302
    account_page = approver_client.get(created["Location"])
    list_page = approver_client.get(reverse("reviews:accounts"))
    account = User.objects.get(username="tanaka")
    path = enrolment_link("tanaka@naccs.example")

    # Until its owner enrols, the account has nothing that could log in.
    assert not account.has_usable_password()
    assert not TOTPDevice.objects.filter(user=account).exists()
    # The creator is told where the link went and until when …
    assert Page(account_page).screen == "staff-account"
    text = Page(account_page).text
    assert "tanaka@naccs.example" in text and EXPIRES_TEXT in text
    assert "登録待ち" in Page(list_page).root.find_all("tr", **{"data-account": "tanaka"})[0].text

    # … and the owner opens it (their authenticator secret now exists); the creator looks again.
    Client().get(path)
    again = approver_client.get(reverse("reviews:account", kwargs={"pk": account.pk}))
    html = html_of(created, account_page, list_page, again)
    assert raw_token(path) not in html and "/staff/enrol/" not in html
    assert_nothing_shown_logs_in_as(account, html)
    refused = Client().post(
        reverse("reviews:login"), {"username": "tanaka", "password": "", "otp_token": "000000"}
    )
    assert refused.status_code == 200


def test_four_eyes_bypass_through_a_second_approver_account_is_refused(
    settings, approver, frozen_clock, django_capture_on_commit_callbacks
):
    settings.NSS_FOUR_EYES = True
    application = submitted_application()
    a = otp_login(Client(), approver)
    a.post(reverse("reviews:take", kwargs={"pk": application.pk}))
    application.refresh_from_db()
    assert application.reviewer == approver

    # A took it, so A may not approve it.
    refused = approve(a, application)
    assert "この申込を担当した審査担当者は承認できません" in Page(refused).text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW

    # A creates approver B: nothing A is shown logs in as B.
    with django_capture_on_commit_callbacks(execute=True):
        created = a.post(
            reverse("reviews:accounts"),
            {"username": "second", "full_name": "別 人", "email": "second@nacc.example", "role": "approver"},
        )
    shown = [created, a.get(created["Location"]), a.get(reverse("reviews:accounts"))]
    b = User.objects.get(username="second")
    [message] = [m for m in mail.outbox if m.to == ["second@nacc.example"]]
    assert message.subject == SUBJECT
    path = ENROL_PATH.search(message.body).group(1)
    assert raw_token(path) not in html_of(*shown)
    assert_nothing_shown_logs_in_as(b, html_of(*shown))
    assert staff_login_with(Client(), "second", "", b"\0" * 20).status_code == 200

    # B enrols through the e-mailed link with their own password and authenticator, and logs in with them.
    b_browser = Client()
    _response, secret = enrol(b_browser, path)
    frozen_clock.shift(datetime.timedelta(seconds=30))  # the code spent on enrolment is not accepted again
    assert staff_login_with(b_browser, "second", ENROL_PASSWORD, secret).status_code == 302

    # A still cannot approve; B, a different person, can.
    assert "この申込を担当した審査担当者は承認できません" in Page(approve(a, application)).text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    approve(b_browser, application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_by == b != application.reviewer


# --- the enrolment e-mail ------------------------------------------------------------------------------------


def test_the_link_is_emailed_to_the_staff_members_own_address_in_japanese(
    approver_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create(approver_client)
    [message] = mail.outbox
    assert message.to == ["tanaka@naccs.example"]
    assert message.subject == SUBJECT
    path = ENROL_PATH.search(message.body).group(1)
    assert "田中 一郎 様" in message.body and "tanaka" in message.body
    assert EXPIRES_TEXT in message.body and "一度だけ" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and path in html and EXPIRES_TEXT in html
    row = Email.objects.get(kind="staff_enrolment")
    assert row.topic == "staff_account" and row.topic_id == User.objects.get(username="tanaka").pk


def test_once_sent_the_outbox_row_keeps_no_copy_of_the_link(
    approver_client, django_capture_on_commit_callbacks
):
    """No working secret in clear at rest: the link exists in the delivered message, not in the table."""
    from notifications import services as notification_services

    with django_capture_on_commit_callbacks(execute=True):
        create(approver_client)
    [message] = mail.outbox
    path = ENROL_PATH.search(message.body).group(1)
    row = Email.objects.get(kind="staff_enrolment")
    assert row.status == "sent"
    assert path not in row.body_text and path not in row.body_html
    assert path.rsplit("/", 2)[-2] not in str(
        list(Email.objects.values_list("body_text", "body_html", "subject"))
    )
    assert row.body_text == notification_services.CREDENTIAL_BODY_REMOVED
    with pytest.raises(ValueError):
        notification_services.email_resend(email_id=row.pk)
    # The delivered link still works: the person enrols with what reached their mailbox.
    assert Page(Client().get(path)).screen == "staff-enrol"


def test_a_reset_email_says_the_old_credentials_no_longer_work(approver_client, reviewer):
    approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}))
    body = Email.objects.get(kind="staff_enrolment", to="reviewer@nacc.example").body_text
    assert "リセットしました" in body and "今までのパスワードと認証アプリはもう使えません" in body


# --- the enrolment screen ------------------------------------------------------------------------------------


def test_the_enrolment_page_shows_a_qr_code_and_the_secret_without_inline_style_or_script(approver_client):
    create(approver_client)
    response = Client().get(enrolment_link("tanaka@naccs.example"))
    page = Page(response)
    assert response.status_code == 200 and page.screen == "staff-enrol"
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user__username="tanaka")
    assert not device.confirmed

    (qr,) = page.root.find_all("img", **{"data-field": "qr-code"})
    assert qr.attrs["alt"]
    prefix = "data:image/svg+xml;base64,"
    assert qr.attrs["src"].startswith(prefix)
    svg = base64.b64decode(qr.attrs["src"][len(prefix) :]).decode()
    assert svg.startswith("<svg") and "<path" in svg
    assert "style" not in svg and "<script" not in svg
    # The QR code is the otpauth:// URI of this account's new device, issued by NSS.
    assert device.config_url.startswith("otpauth://totp/NSS%3Atanaka?secret=")
    assert qr.attrs["src"] == authenticators.qr_data_uri(device.config_url)
    # The secret as text, grouped in fours for reading.
    secret_text = page.root.find_all(**{"data-field": "totp-secret"})[0].text
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret_text)
    assert enrolment_secret(response) == device.bin_key
    # No inline style or script anywhere on the page (the Content-Security-Policy forbids them).
    assert "style=" not in page.html and "<script" not in page.html
    assert not re.search(r"\son[a-z]+=", page.html)
    assert page.buttons()[-1] == "登録する"
    for label in ("パスワード", "パスワード（確認）", "確認コード（認証アプリの6桁）"):
        page.control_labelled(label)


def test_reloading_the_page_shows_the_same_secret_from_one_unconfirmed_device(approver_client):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    first = enrolment_secret(Client().get(path))
    second = enrolment_secret(Client().get(path))
    assert first == second
    [device] = TOTPDevice.objects.filter(user__username="tanaka")
    assert device.bin_key == first and not device.confirmed


def test_enrolment_sets_the_own_password_and_confirms_the_authenticator(approver_client, frozen_clock):
    create(approver_client)
    browser = Client()
    response, secret = enrol(browser, enrolment_link("tanaka@naccs.example"))
    assert response["Location"] == reverse("reviews:enrol-complete")
    done = browser.get(response["Location"])
    assert Page(done).screen == "staff-enrol-complete"
    assert reverse("reviews:login") in [a.attrs.get("href") for a in Page(done).root.find_all("a")]
    assert not browser.session.get("_auth_user_id"), "enrolment does not log in by itself"

    account = User.objects.get(username="tanaka")
    assert account.check_password(ENROL_PASSWORD)
    [device] = TOTPDevice.objects.filter(user=account)
    assert device.confirmed and device.bin_key == secret
    assert EnrolmentToken.objects.get(user=account).used_at is not None
    frozen_clock.shift(datetime.timedelta(seconds=30))
    assert staff_login_with(Client(), "tanaka", ENROL_PASSWORD, secret).status_code == 302


def test_a_wrong_code_is_refused_next_to_the_field_and_nothing_is_saved(approver_client):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    browser = Client()
    secret = enrolment_secret(browser.get(path))
    response = browser.post(
        path, {"password1": ENROL_PASSWORD, "password2": ENROL_PASSWORD, "otp_token": wrong_code(secret)}
    )
    assert response.status_code == 200 and Page(response).screen == "staff-enrol"
    assert "確認コードが正しくありません" in Page(response).field_errors("otp_token")
    assert enrolment_secret(response) == secret
    account = User.objects.get(username="tanaka")
    assert not account.has_usable_password()
    assert not TOTPDevice.objects.get(user=account).confirmed
    assert EnrolmentToken.objects.get(user=account).used_at is None


@pytest.mark.parametrize(
    ("password", "confirmation", "field", "message"),
    [
        ("short-pw", "short-pw", "password1", "このパスワードは短すぎます。最低 12 文字以上必要です。"),
        ("password1234", "password1234", "password1", "このパスワードは一般的すぎます。"),
        ("123456789012345", "123456789012345", "password1", "数字しか使われていません"),
        ("tanaka@naccs.example", "tanaka@naccs.example", "password1", "似すぎています"),
        (ENROL_PASSWORD, ENROL_PASSWORD + "x", "password2", "確認用のパスワードが一致しません。"),
    ],
)
def test_a_weak_or_mistyped_password_is_refused_next_to_the_field_and_nothing_is_saved(
    approver_client, password, confirmation, field, message
):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    browser = Client()
    secret = enrolment_secret(browser.get(path))
    response = browser.post(
        path, {"password1": password, "password2": confirmation, "otp_token": code_for(secret)}
    )
    assert response.status_code == 200
    assert message in Page(response).field_errors(field)
    account = User.objects.get(username="tanaka")
    assert not account.has_usable_password()
    assert not TOTPDevice.objects.get(user=account).confirmed
    assert EnrolmentToken.objects.get(user=account).used_at is None


def test_the_service_itself_refuses_a_weak_password(approver, approver_client):
    """The form checks the password, and the service checks it again: no other caller can skip the rule."""
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    pending = review_services.staff_enrolment_start(raw_token=raw_token(path))
    with pytest.raises(review_services.DomainError) as excinfo:
        review_services.staff_enrolment_complete(
            raw_token=raw_token(path), password="short", otp_token=code_for(pending.device.bin_key)
        )
    assert excinfo.value.field == "password1"
    assert not User.objects.get(username="tanaka").has_usable_password()


# --- the token: single use, expiry, voided by a reset, stored hashed ------------------------------------------


def assert_invalid_link_page(response):
    assert response.status_code == 404
    page = Page(response)
    assert page.screen == "staff-enrol-invalid"
    assert INVALID_LINK in page.text and "承認者" in page.text


def test_a_link_works_once(approver_client):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    enrol(Client(), path)
    assert_invalid_link_page(Client().get(path))
    assert_invalid_link_page(
        Client().post(path, {"password1": "another-good-password", "password2": "another-good-password"})
    )
    assert User.objects.get(username="tanaka").check_password(ENROL_PASSWORD)


def test_a_link_expires_after_the_enrolment_hours(approver_client, frozen_clock, settings):
    assert settings.NSS_STAFF_ENROLMENT_HOURS == 72
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    frozen_clock.move_to(FROZEN_AT + datetime.timedelta(hours=72, seconds=-1))
    assert Client().get(path).status_code == 200
    frozen_clock.move_to(FROZEN_AT + datetime.timedelta(hours=72))
    assert_invalid_link_page(Client().get(path))


def test_the_lifetime_follows_the_setting(approver_client, frozen_clock, settings):
    settings.NSS_STAFF_ENROLMENT_HOURS = 2
    create(approver_client)
    token = EnrolmentToken.objects.get(user__username="tanaka")
    assert token.expires_at == FROZEN_AT + datetime.timedelta(hours=2)


def test_a_reset_voids_the_previous_link(approver_client):
    create(approver_client)
    first = enrolment_link("tanaka@naccs.example")
    account = User.objects.get(username="tanaka")
    approver_client.post(reverse("reviews:account-reset", kwargs={"pk": account.pk}))
    second = enrolment_link("tanaka@naccs.example")
    assert second != first
    assert_invalid_link_page(Client().get(first))
    assert Client().get(second).status_code == 200
    assert EnrolmentToken.objects.filter(user=account, voided_at__isnull=False).count() == 1


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "A" * 500, "%00", "%E2%80%8B", "..", "%F0%9F%98%80", "complete" + "x" * 40],
)
def test_a_wrong_token_is_the_invalid_link_page_never_a_500(client, token):
    path = f"/staff/enrol/{token}/"
    assert_invalid_link_page(client.get(path))
    assert_invalid_link_page(client.post(path, {"password1": "x", "password2": "x", "otp_token": "1"}))


def test_only_a_sha256_hash_of_the_token_is_stored(approver_client):
    create(approver_client)
    raw = raw_token(enrolment_link("tanaka@naccs.example"))
    token = EnrolmentToken.objects.get(user__username="tanaka")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {EnrolmentToken._meta.db_table}")  # noqa: S608 - our own table name
        rows = cursor.fetchall()
    assert rows and not any(raw in str(value) for row in rows for value in row)
    audit_text = " ".join(str(entry.additional_data) + str(entry.changes) for entry in LogEntry.objects.all())
    assert raw not in audit_text


def test_two_requests_with_one_link_enrol_once(approver_client):
    """One after the other here; at the same moment on PostgreSQL at the end of this module."""
    create(approver_client)
    raw = raw_token(enrolment_link("tanaka@naccs.example"))
    pending = review_services.staff_enrolment_start(raw_token=raw)
    code = code_for(pending.device.bin_key)
    review_services.staff_enrolment_complete(raw_token=raw, password=ENROL_PASSWORD, otp_token=code)
    with pytest.raises(review_services.enrolment.EnrolmentTokenInvalid):
        review_services.staff_enrolment_complete(
            raw_token=raw, password="another-good-password", otp_token=code
        )
    assert User.objects.get(username="tanaka").check_password(ENROL_PASSWORD)


# --- until enrolled the account can do nothing; reset, stop and resume ------------------------------------------


def test_an_unenrolled_account_cannot_log_in(approver_client):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    secret = enrolment_secret(Client().get(path))  # its device exists now, unconfirmed
    for password in ("anything-at-all", PASSWORD, ENROL_PASSWORD):
        response = staff_login_with(Client(), "tanaka", password, secret)
        assert response.status_code == 200
        assert STAFF_LOGIN_ERROR in Page(response).text


def test_a_password_without_a_confirmed_authenticator_does_not_log_in(approver_client):
    create(approver_client)
    secret = enrolment_secret(Client().get(enrolment_link("tanaka@naccs.example")))
    account = User.objects.get(username="tanaka")
    account.set_password(ENROL_PASSWORD)
    account.save()
    response = staff_login_with(Client(), "tanaka", ENROL_PASSWORD, secret)
    assert STAFF_LOGIN_ERROR in Page(response).text


def test_a_reset_ends_the_old_password_device_and_sessions(approver_client, reviewer, frozen_clock):
    reviewer_client = otp_login(Client(), reviewer)
    assert queue_reached(reviewer_client)
    old_secret = TOTPDevice.objects.get(user=reviewer).bin_key

    response = approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}))
    assert response.status_code == 302
    notice = Page(approver_client.get(response["Location"])).text
    assert "reviewer@nacc.example" in notice and EXPIRES_TEXT in notice

    assert not queue_reached(reviewer_client)
    reviewer.refresh_from_db()
    assert not reviewer.has_usable_password() and not reviewer.check_password(PASSWORD)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    frozen_clock.shift(datetime.timedelta(seconds=30))
    assert STAFF_LOGIN_ERROR in Page(staff_login_with(Client(), reviewer.username, PASSWORD, old_secret)).text

    _response, secret = enrol(Client(), enrolment_link("reviewer@nacc.example"))
    frozen_clock.shift(datetime.timedelta(seconds=30))
    assert staff_login_with(Client(), reviewer.username, ENROL_PASSWORD, secret).status_code == 302
    assert not queue_reached(reviewer_client), "the old session stays ended"


def test_stopping_ends_sessions_and_resuming_does_not_revive_them(approver_client, reviewer, frozen_clock):
    reviewer_client = otp_login(Client(), reviewer)
    assert queue_reached(reviewer_client)
    url = reverse("reviews:account", kwargs={"pk": reviewer.pk})

    approver_client.post(url, {"role": "reviewer"})  # is_active unchecked: stopped
    reviewer.refresh_from_db()
    assert not reviewer.is_active
    assert not queue_reached(reviewer_client)

    approver_client.post(url, {"role": "reviewer", "is_active": "on"})  # resumed
    reviewer.refresh_from_db()
    assert reviewer.is_active
    assert not queue_reached(reviewer_client), "resuming does not revive the old session"
    frozen_clock.shift(datetime.timedelta(seconds=30))
    assert queue_reached(otp_login(Client(), reviewer)), "the resumed account logs in afresh"


def test_stopping_voids_the_open_link_and_resuming_does_not_revive_it(approver_client):
    create(approver_client)
    path = enrolment_link("tanaka@naccs.example")
    account = User.objects.get(username="tanaka")
    url = reverse("reviews:account", kwargs={"pk": account.pk})
    approver_client.post(url, {"role": "reviewer"})
    assert_invalid_link_page(Client().get(path))
    approver_client.post(url, {"role": "reviewer", "is_active": "on"})
    assert_invalid_link_page(Client().get(path))
    assert "未登録" in Page(approver_client.get(url)).text


def test_a_stopped_account_gets_no_new_link(approver_client, reviewer):
    reviewer.is_active = False
    reviewer.save()
    response = approver_client.post(reverse("reviews:account-reset", kwargs={"pk": reviewer.pk}), follow=True)
    assert "停止中のアカウントには登録用リンクを送れません" in Page(response).page_errors()
    assert not Email.objects.filter(kind="staff_enrolment").exists()
    assert TOTPDevice.objects.filter(user=reviewer).exists()


def test_the_account_page_tells_whether_the_owner_has_enrolled(approver_client, reviewer):
    create(approver_client)
    account = User.objects.get(username="tanaka")
    pending = Page(approver_client.get(reverse("reviews:account", kwargs={"pk": account.pk})))
    assert EXPIRES_TEXT in pending.root.find_all(**{"data-field": "enrolment"})[0].text
    enrol(Client(), enrolment_link("tanaka@naccs.example"))
    done = Page(approver_client.get(reverse("reviews:account", kwargs={"pk": account.pk})))
    assert "登録済み" in done.root.find_all(**{"data-field": "enrolment"})[0].text


# --- the last approver --------------------------------------------------------------------------------------


def test_the_last_approver_cannot_demote_themselves(approver_client, approver):
    response = approver_client.post(
        reverse("reviews:account", kwargs={"pk": approver.pk}), {"role": "reviewer", "is_active": "on"}
    )
    assert "利用できる承認者がほかにいない" in Page(response).field_errors("role")
    assert approver.has_perm(review_services.PERM_APPROVE)
    assert User.objects.get(pk=approver.pk).groups.filter(name="approver").exists()


def test_an_approver_not_yet_enrolled_does_not_count_as_another_approver(approver_client, approver):
    create(approver_client, role="approver")
    response = approver_client.post(
        reverse("reviews:account", kwargs={"pk": approver.pk}), {"role": "reviewer", "is_active": "on"}
    )
    assert "利用できる承認者がほかにいない" in Page(response).field_errors("role")


def test_an_approver_may_step_down_while_another_can_log_in(approver_client, approver):
    staff_with_device("approver")
    response = approver_client.post(
        reverse("reviews:account", kwargs={"pk": approver.pk}), {"role": "reviewer", "is_active": "on"}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=approver.pk).groups.filter(name="approver").exists()


def test_the_last_approver_cannot_be_stopped(approver):
    """An administrator (a superuser staff account, not an approver) tries to stop the only approver."""
    administrator = StaffFactory(is_superuser=True)
    with pytest.raises(review_services.DomainError) as excinfo:
        review_services.staff_account_update(
            actor=administrator, account=approver, role="approver", is_active=False
        )
    assert excinfo.value.field == "is_active" and excinfo.value.code == "last_approver"
    approver.refresh_from_db()
    assert approver.is_active


def test_an_approver_stopped_a_moment_ago_can_no_longer_act(approver):
    other = staff_with_device("approver")
    review_services.staff_account_update(actor=approver, account=other, role="approver", is_active=False)
    with pytest.raises(review_services.DomainError) as excinfo:
        # `other` as its request loaded it, before it was stopped
        review_services.staff_account_update(actor=other, account=approver, role="approver", is_active=False)
    assert excinfo.value.code == "permission_denied"
    approver.refresh_from_db()
    assert approver.is_active


# --- the audit trail --------------------------------------------------------------------------------------------


def test_create_reset_and_enrolment_are_audited(approver_client, approver):
    create(approver_client)
    account = User.objects.get(username="tanaka")
    approver_client.post(reverse("reviews:account-reset", kwargs={"pk": account.pk}))
    enrol(Client(), enrolment_link("tanaka@naccs.example"))
    entries = {
        entry.additional_data["action"]: entry for entry in LogEntry.objects.filter(object_id=account.pk)
    }
    assert entries["staff_account_create"].actor == approver
    assert entries["staff_account_create"].additional_data["email"] == "tanaka@naccs.example"
    assert entries["staff_credentials_reset"].actor == approver
    assert entries["staff_enrolment_complete"].actor == account


# --- the demo staff keep their published credentials -------------------------------------------------------


def test_the_demo_staff_still_log_in_with_the_readme_credentials():
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    for username, password, secret in (
        ("demo-reviewer", "demo-reviewer-pass", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        ("demo-approver", "demo-approver-pass", "JZJVGQKQKBJFMRKSIRCU2T2LIVMTAMBR"),
    ):
        response = staff_login_with(Client(), username, password, base64.b32decode(secret))
        assert response.status_code == 302, username


def test_staff_accounts_without_an_address_do_not_clash():
    """Staff made before addresses were required (factories, the demo) share the empty address without clashing."""
    staff_in("reviewer")
    staff_in("reviewer")
    assert User.objects.filter(is_staff=True, email="").count() == 2


# --- races on the real PostgreSQL (row locks only mean something there) ---------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "reviewer"}], ids=["stop", "demote"])
def test_two_approvers_stopping_or_demoting_each_other_at_once_cannot_both_succeed(require_postgres, change):
    first, second = staff_with_device("approver"), staff_with_device("approver")
    for user in (first, second):
        assert user.has_perm(review_services.PERM_MANAGE_STAFF)
    pairs = [(first, second), (second, first)]
    arguments = {"role": "approver", "is_active": True, **change}

    results, errors = race(
        lambda i: review_services.staff_account_update(actor=pairs[i][0], account=pairs[i][1], **arguments),
        2,
        no_thread_may_hang=True,
    )

    assert [result is not None for result in results].count(True) == 1, errors
    [loser] = [error for error in errors if error is not None]
    assert isinstance(loser, review_services.DomainError) and str(loser.message)
    remaining = User.objects.filter(pk__in=[first.pk, second.pk], is_active=True, groups__name="approver")
    assert remaining.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_link_used_by_two_requests_at_once_enrols_once(require_postgres):
    approver = staff_with_device("approver", email="approver@nacc.example")
    review_services.staff_account_create(actor=approver, **NEW_STAFF)
    raw = raw_token(enrolment_link("tanaka@naccs.example"))
    pending = review_services.staff_enrolment_start(raw_token=raw)
    code = code_for(pending.device.bin_key)
    passwords = [ENROL_PASSWORD, "another-good-password"]

    results, errors = race(
        lambda i: review_services.staff_enrolment_complete(
            raw_token=raw, password=passwords[i], otp_token=code
        ),
        2,
        no_thread_may_hang=True,
    )

    [winner] = [index for index, result in enumerate(results) if result is not None]
    [loser] = [error for error in errors if error is not None]
    assert isinstance(loser, review_services.enrolment.EnrolmentTokenInvalid)
    account = User.objects.get(username="tanaka")
    assert account.check_password(passwords[winner])
    assert TOTPDevice.objects.filter(user=account, confirmed=True).count() == 1
    assert EnrolmentToken.objects.get(user=account).used_at is not None


def test_with_centre_domains_set_a_link_cannot_go_to_an_outside_mailbox(approver_client, settings):
    """NSS_STAFF_EMAIL_DOMAINS: an approver cannot send a new account's link to a mailbox of their own outside
    the centre."""
    settings.NSS_STAFF_EMAIL_DOMAINS = ["naccs.example"]
    response = create(approver_client, email="approver.private@mail.example")
    assert response.status_code == 200
    assert "naccs.example" in Page(response).field_errors("email")
    assert not User.objects.filter(username="tanaka").exists()
    assert not Email.objects.filter(kind="staff_enrolment").exists()

    assert create(approver_client, email="Tanaka@NACCS.example").status_code == 302
    assert User.objects.get(username="tanaka").email.lower() == "tanaka@naccs.example"
