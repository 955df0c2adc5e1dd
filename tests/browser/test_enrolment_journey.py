"""SPEC §10 in headless Chromium: an approver creates a staff account; the account has no usable password and the
approver never sees the single-use enrolment link, which goes through the outbox and a real SMTP server to the
staff member's own address; the staff member opens it in a browser of their own, reads the TOTP secret off the
page like an authenticator app would, is refused a wrong code, enrols with a right one and their own password,
logs in at the staff login with a new code and reaches the queue; the used link is then invalid.

E-mail is delivered for real: the outbox's send task runs eagerly (tests/conftest.py) inside the live server's
request, through Django's SMTP backend, to the aiosmtpd sink of test_full_journey.py. The clock is moved
(time_machine, process-wide, so the live server sees it too) to the start of a fresh 30-second step before each
code is typed: the code typed is the one the server expects, and the enrolment code and the first login code fall
in different steps (a TOTP code is accepted only once). Every screen is saved as
test-results/browser/enrol-NN-<screen>.png.
"""

import base64
import datetime
import re
import time

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from applications.models import User
from devtools.smtp import SmtpSink
from notifications.models import Email, EmailStatus
from tests.browser import test_full_journey
from tests.browser.test_filing_journey import assert_screen, button, field
from tests.factories import ENROL_PATH, PASSWORD, staff_with_device, totp_code

# The same database marker as the other browser tests: the live server runs in another thread, so the data must be
# committed; serialized_rollback restores the migrations' reference data (processing methods, staff groups).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The SMTP sink fixtures of test_full_journey.py (tests/notifications/conftest.py is not visible from here).
smtp_sink = test_full_journey.smtp_sink
smtp_mail = test_full_journey.smtp_mail

APPROVER_EMAIL = "approver@naccs.example"
USERNAME = "sato"
FULL_NAME = "佐藤 花子"
EMAIL = "sato@naccs.example"
OWN_PASSWORD = "kanagawa-nami-2026"  # the staff member's own choice: passes Django's validators
SUBJECT = "【NSS】スタッフアカウントの登録のお願い"
WRONG_CODE_MESSAGE = "確認コードが正しくありません"
STEP = 30  # seconds: the TOTP time step (SHA-1, 6 digits)


def next_step_start(traveller) -> None:
    """Move the (ticking) clock forward to the first second of the next TOTP step: what is typed within the next
    30 seconds is checked by the server in the same step, and never in the step of an earlier code."""
    traveller.move_to(datetime.datetime.fromtimestamp((int(time.time()) // STEP + 1) * STEP, tz=datetime.UTC))


def shown_secret(page: Page) -> tuple[str, bytes]:
    """The base32 secret as the enrolment page shows it (grouped by 4 for reading), and its bytes."""
    shown = page.locator('[data-field="totp-secret"]').inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    compact = shown.replace(" ", "")
    return compact, base64.b32decode(compact + "=" * (-len(compact) % 8))


def code_now(key: bytes, steps_away: int = 0) -> str:
    """What an authenticator app holding `key` shows now (or `steps_away` steps from now)."""
    return f"{totp(key, step=STEP, digits=6, drift=steps_away):06d}"


def test_approver_creates_a_staff_account_and_the_staff_member_enrols_through_the_emailed_link(
    page: Page, browser: Browser, live_server, settings, smtp_mail: SmtpSink, screenshot
):
    def shot(on: Page, screen: str) -> None:
        screenshot(on, screen, prefix="enrol-")

    # The e-mail's link must point at this live server.
    settings.NSS_BASE_URL = live_server.url
    approver = staff_with_device("approver", email=APPROVER_EMAIL)

    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC), tick=True) as traveller:
        # --- the approver: staff login with TOTP, then スタッフアカウント → 追加する
        page.goto("/staff/login/")
        assert_screen(page, "staff-login")
        field(page, "ユーザーID").fill(approver.username)
        field(page, "パスワード").fill(PASSWORD)
        field(page, "確認コード（認証アプリの6桁）").fill(totp_code(approver))
        shot(page, "staff-login")
        button(page, "ログイン").click()
        assert_screen(page, "staff-queue")

        page.get_by_role("link", name="スタッフアカウント", exact=True).click()
        assert_screen(page, "staff-accounts")
        field(page, "ユーザーID").fill(USERNAME)
        field(page, "氏名").fill(FULL_NAME)
        field(page, "メールアドレス").fill(EMAIL)
        field(page, "役割").select_option(label="承認者")
        shot(page, "staff-accounts")
        button(page, "追加する").click()

        # told where the link went and until when — never the link itself
        assert_screen(page, "staff-account")
        status = page.get_by_role("status")
        expect(status).to_contain_text(f"{USERNAME} の登録用リンクを {EMAIL} に送信しました（有効期限：")
        expect(status).to_contain_text("このアカウントではログインできません")
        expect(page.locator('[data-field="enrolment"]')).to_contain_text("登録待ち")
        shot(page, "staff-account-created")
        assert_no_credentials(page)
        page.get_by_role("link", name="スタッフアカウント", exact=True).click()
        assert_screen(page, "staff-accounts")
        row = page.locator(f'tr[data-account="{USERNAME}"]')
        expect(row).to_contain_text(FULL_NAME)
        expect(row).to_contain_text("承認者")
        expect(row).to_contain_text("登録待ち")
        assert_no_credentials(page)

        account = User.objects.get(username=USERNAME)
        assert account.is_staff and account.email == EMAIL
        assert not account.has_usable_password()
        assert not TOTPDevice.objects.filter(user=account).exists()

        # --- the e-mail, over SMTP to the staff member's own address
        (mail,) = smtp_mail.wait_for(1, timeout=15)
        assert mail.rcpt_tos == [EMAIL]
        assert str(mail.message["To"]) == EMAIL
        assert mail.subject == SUBJECT
        assert mail.text.startswith(f"{FULL_NAME} 様")
        links = ENROL_PATH.findall(mail.text)
        assert len(links) == 1, mail.text
        (link,) = links
        assert f"{live_server.url}{link}" in mail.text

        # --- the staff member, in a browser context of their own (no approver session)
        staff = test_full_journey.new_page(browser, live_server)
        try:
            staff.goto(link)
            assert_screen(staff, "staff-enrol")
            expect(staff.locator('[data-field="username"]')).to_have_text(USERNAME)
            qr_code = staff.locator('img[data-field="qr-code"]')
            expect(qr_code).to_be_visible()
            assert qr_code.get_attribute("src").startswith("data:image/svg+xml;base64,")
            assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0")
            secret, key = shown_secret(staff)
            assert len(key) == 20, key  # 160 bits
            shot(staff, "staff-enrol")

            # a wrong code (one no step near now would show) is refused at the field, and nothing is saved
            near = {code_now(key, steps) for steps in range(-2, 3)}
            wrong = next(
                code for code in ("000000", "111111", "222222", "333333", "444444") if code not in near
            )
            staff.locator("#id_password1").fill(OWN_PASSWORD)
            staff.locator("#id_password2").fill(OWN_PASSWORD)
            staff.locator("#id_otp_token").fill(wrong)
            button(staff, "登録する").click()
            assert_screen(staff, "staff-enrol")
            expect(staff.locator("#id_otp_token")).to_have_class(re.compile(r"\bis-invalid\b"))
            expect(staff.locator("#div_id_otp_token")).to_contain_text(WRONG_CODE_MESSAGE)
            expect(staff.locator("#div_id_password1")).not_to_contain_text(WRONG_CODE_MESSAGE)
            expect(staff.locator("#id_password1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
            # the same secret again: the link still holds the same, unconfirmed authenticator
            assert shown_secret(staff)[0] == secret
            shot(staff, "staff-enrol-wrong-code")
            account.refresh_from_db()
            assert not account.has_usable_password()
            assert not TOTPDevice.objects.filter(user=account, confirmed=True).exists()

            # the right code, computed from the secret on the page, at the start of a fresh step
            next_step_start(traveller)
            staff.locator("#id_password1").fill(OWN_PASSWORD)
            staff.locator("#id_password2").fill(OWN_PASSWORD)
            staff.locator("#id_otp_token").fill(code_now(key))
            button(staff, "登録する").click()
            assert_screen(staff, "staff-enrol-complete")
            expect(staff.locator("h1")).to_have_text("登録が完了しました")
            shot(staff, "staff-enrol-complete")

            # --- the staff login with the own password and a new code (the next step: a code counts once)
            staff.get_by_role("link", name="スタッフログインへ").click()
            assert_screen(staff, "staff-login")
            next_step_start(traveller)
            field(staff, "ユーザーID").fill(USERNAME)
            field(staff, "パスワード").fill(OWN_PASSWORD)
            field(staff, "確認コード（認証アプリの6桁）").fill(code_now(key))
            shot(staff, "staff-login-own")
            button(staff, "ログイン").click()
            assert_screen(staff, "staff-queue")
            expect(staff.locator("header")).to_contain_text(USERNAME)
            shot(staff, "staff-queue")

            # --- the used link shows nothing any more
            staff.goto(link)
            assert_screen(staff, "staff-enrol-invalid")
            expect(staff.locator("main")).to_contain_text("このリンクは無効か、有効期限が切れています。")
            expect(staff.locator('[data-field="totp-secret"]')).to_have_count(0)
            expect(staff.locator('img[data-field="qr-code"]')).to_have_count(0)
            shot(staff, "staff-enrol-invalid")
        finally:
            staff.context.close()

        # --- the approver's list: enrolled now, and still neither the link nor the secret
        page.reload()
        assert_screen(page, "staff-accounts")
        expect(page.locator(f'tr[data-account="{USERNAME}"]')).to_contain_text("利用可")
        assert_no_credentials(page, secret)
        page.locator(f'tr[data-account="{USERNAME}"]').get_by_role("link", name=USERNAME).click()
        assert_screen(page, "staff-account")
        expect(page.locator('[data-field="enrolment"]')).to_contain_text("登録済み")
        assert_no_credentials(page, secret)
        shot(page, "staff-account-enrolled")

    account.refresh_from_db()
    assert account.has_usable_password()
    assert account.check_password(OWN_PASSWORD)
    devices = TOTPDevice.objects.filter(user=account)
    assert [(device.confirmed, device.name) for device in devices] == [(True, "authenticator")]
    assert devices.get().bin_key == key
    # the outbox row was sent, and once sent its body no longer holds the link
    (email,) = Email.objects.filter(kind="staff_enrolment")
    assert (email.to, email.status) == (EMAIL, EmailStatus.SENT)
    for body in (email.body_text, email.body_html):
        assert "/staff/enrol/" not in body, body
        assert link.rsplit("/", 2)[-2] not in body
    assert len(smtp_mail.received()) == 1, [mail.subject for mail in smtp_mail.received()]


def assert_no_credentials(page: Page, secret: str = "") -> None:
    """No enrolment link, QR code or TOTP secret anywhere on this page of the approver's."""
    html = page.content()
    assert "/staff/enrol/" not in html
    assert "otpauth" not in html
    expect(page.locator('[data-field="totp-secret"], img[data-field="qr-code"]')).to_have_count(0)
    if secret:
        assert secret not in html.replace(" ", "")
        grouped = " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))
        assert grouped not in html
