"""The whole journey in headless Chromium, on the demo data (`load_demo`): the demo customer files an application for
two IDs (インタラクティブ and netNACCS) → the receipt e-mail arrives at a real SMTP server → the demo reviewer logs in
with TOTP, takes the application and approves it with a start date two business days after the desired one → the
confirmation e-mail arrives, and its login link, followed in a fresh browser, leads to the application's 詳細 with the
notice 「NACCSのご利用は…から可能です。」 and to the ID notice → on the start date the broker logs in to UTB with the
issued interactive ID and its initial password, changes it, registers 12-7896 (→ 7896) and reads it with UTB01.

E-mail is delivered for real: the outbox's send task runs eagerly (tests/conftest.py) inside the live server's
request, through Django's SMTP backend, to an aiosmtpd sink on 127.0.0.1. Every screen is saved as
test-results/browser/journey-NN-<screen>.png.
"""

import datetime
import io
import re
from collections.abc import Iterator
from functools import partial

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from applications import business_calendar, clock, dates, rules
from applications.management.commands.load_demo import STAFF
from applications.models import Application, ApplicationStatus, NaccsUserId, User
from applications.reception_numbers import is_valid_reception_number
from devtools.smtp import SmtpSink
from tests.browser.conftest import browser_context
from tests.browser.test_filing_journey import assert_screen, button, field, items, link
from tests.factories import FROZEN_AT, totp_code
from utb_gateway.models import LicenceRegistration

# The same database marker as the other browser tests: the live server runs in another thread, so the data must be
# committed; serialized_rollback restores the migrations' reference data (processing methods, staff groups).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CUSTOMER = ("demo-customer", "demo-customer-pass")
REVIEWER = next((name, password) for name, password, role, _key in STAFF if role == "reviewer")
USER_CODE = "1ANAC"
COMPANY = "デモ通関株式会社"
OFFICE = "東京事業所"
DESIRED_IDENTIFIER = "K7Q"  # the demo office already has A0A, Y27 and G01
BROKER_NAME = "通関 一郎"
NEW_PASSWORD = "NEWPASS1"
APPROVED_SUBJECT = "【NSS】利用申込確認完了のお知らせ"
URL = re.compile(r"https?://\S+")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """The SMTP sink of devtools/smtp.py (as in tests/notifications, whose fixtures this folder does not see), on a
    free local port."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def smtp_mail(settings, smtp_sink) -> SmtpSink:
    """Django sends over SMTP to the sink for the length of the test."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_sink


def new_page(browser: Browser, live_server) -> Page:
    """A page in a browser context of its own (own cookies), like the `page` fixture; closed with its context."""
    return browser_context(browser, live_server).new_page()


def test_demo_customer_files_reviewer_approves_and_broker_registers_the_licence_number(
    page: Page, browser: Browser, live_server, settings, smtp_mail: SmtpSink, screenshot
):
    shot = partial(screenshot, prefix="journey-")
    pages: list[Page] = []

    def fresh_page() -> Page:
        pages.append(new_page(browser, live_server))
        return pages[-1]

    # time_machine patches the whole process, so the live server's thread sees the same (ticking) clock.
    # FROZEN_AT is Monday 2026-11-16 10:00 JST.
    try:
        with time_machine.travel(FROZEN_AT, tick=True) as traveller:
            call_command("load_demo", stdout=io.StringIO())
            desired = rules.earliest_start_date(clock.today())
            confirmed = business_calendar.add_business_days(desired, 2)
            assert confirmed > desired
            # the e-mail's login link must point at this live server
            settings.NSS_BASE_URL = live_server.url

            number = file_application(page, desired, shot)
            receipt = check_receipt_email(smtp_mail, number)
            approve(fresh_page(), number, desired, confirmed, shot)
            confirmation = check_confirmation_email(smtp_mail, receipt)
            login_link = relative_login_link(confirmation.text, live_server.url)
            user_id, initial_password = read_result_and_id_notice(
                fresh_page(), login_link, number, desired, confirmed, shot
            )

            # --- the start date has come: 10:00 JST, inside UTB hours
            traveller.move_to(datetime.datetime.combine(confirmed, datetime.time(10, 0), tzinfo=clock.JST))
            assert clock.today() == confirmed
            register_licence_number(fresh_page(), user_id, initial_password, confirmed, shot)
    finally:
        for other in pages:
            other.context.close()

    application = Application.objects.get(reception_number=number)
    assert application.status == ApplicationStatus.APPROVED
    assert (application.desired_start_date, application.start_date) == (desired, confirmed)
    issued = NaccsUserId.objects.get(contract__user_code=USER_CODE, identifier=DESIRED_IDENTIFIER)
    assert issued.issued_by == application
    assert issued.password_changed_at is not None
    # The password change destroyed the initial one: the ID notice says 「変更済み」 and has no value (SPEC §10).
    assert issued.initial_password_encrypted == ""
    registration = LicenceRegistration.objects.get(naccs_user_id=issued, is_current=True)
    assert (registration.licence_number, registration.registered_by) == ("7896", issued)
    assert len(smtp_mail.received()) == 2, [mail.subject for mail in smtp_mail.received()]


# --- 1. the demo customer files (screens 1–7) --------------------------------------------------------------------


def file_application(page: Page, desired: datetime.date, shot) -> str:
    """Screens 1–7 as a customer goes through them, with the detours: the applicant form prefilled from the account
    and a full-width phone number normalised; an ID removed and added again; back from 確認 to 入力 with
    everything kept; the reception number shown is the one filed, with a valid check letter."""
    username, password = CUSTOMER
    customer = User.objects.get(username=username)
    page.goto("/login/")
    assert_screen(page, "login")
    field(page, "ユーザーID").fill(username)
    field(page, "パスワード").fill(password)
    shot(page, "login")
    button(page, "ログイン").click()
    assert_screen(page, "menu")
    expect(page.locator("main")).to_contain_text(USER_CODE)
    shot(page, "menu")

    link(page, "通関士IDの追加").click()
    assert_screen(page, "guidance")
    shot(page, "guidance")

    # 4 applicant: prefilled from the account; a full-width phone number is normalised
    button(page, "通関士IDを追加する").click()
    assert_screen(page, "applicant")
    expect(field(page, "氏名")).to_have_value(customer.full_name)
    expect(field(page, "部署")).to_have_value(customer.department)
    expect(field(page, "電話番号")).to_have_value(customer.phone)
    expect(field(page, "メールアドレス")).to_have_value("demo-customer@example.com")
    field(page, "電話番号").fill("０３－５５５５－１２３４")
    shot(page, "applicant")
    button(page, "通関士用利用者IDの入力へ進む").click()
    assert_screen(page, "add-ids")
    draft = Application.objects.get(created_by=customer, status=ApplicationStatus.DRAFT)
    assert draft.applicant_phone == "03-5555-1234"

    # 5 add-ids: the wished identifier typed in full-width lower case; a second ID removed and added back
    expect(items(page)).to_have_count(0)
    field(page, "利用開始希望日").fill(desired.isoformat())
    field(page, "処理方式").select_option(label="インタラクティブ処理方式")
    field(page, "希望識別番号").fill(DESIRED_IDENTIFIER.lower().translate(FULL_WIDTH))
    field(page, "通関士氏名").fill(BROKER_NAME)
    button(page, "設定する").click()
    assert_screen(page, "add-ids")
    expect(items(page)).to_have_count(1)
    expect(items(page).nth(0)).to_contain_text(DESIRED_IDENTIFIER)
    expect(field(page, "利用開始希望日")).to_have_value(desired.isoformat())

    def add_netnaccs():
        field(page, "処理方式").select_option(label="netNACCS")
        field(page, "通関士氏名").fill(BROKER_NAME)
        button(page, "設定する").click()
        assert_screen(page, "add-ids")
        expect(items(page)).to_have_count(2)
        expect(items(page).nth(1)).to_contain_text("netNACCS")
        expect(items(page).nth(1)).to_contain_text("指定なし")

    add_netnaccs()
    items(page).nth(1).get_by_role("button", name="削除").click()
    assert_screen(page, "add-ids")
    expect(items(page)).to_have_count(1)
    add_netnaccs()
    assert [(i.processing_method.code, i.desired_identifier) for i in draft.items.order_by("pk")] == [
        ("interactive", DESIRED_IDENTIFIER),
        ("netnaccs", ""),
    ]
    shot(page, "add-ids")

    # 6 confirm, back to 5 with everything kept, 6 again
    button(page, "申込内容確認へ進む").click()
    assert_screen(page, "confirm")
    expect(page.locator("main")).to_contain_text("03-5555-1234")
    expect(page.locator('[data-field="desired_start_date"]')).to_have_text(dates.format_date(desired))
    expect(items(page)).to_have_count(2)
    shot(page, "confirm")
    link(page, "通関士用利用者IDの入力に戻る").click()
    assert_screen(page, "add-ids")
    expect(items(page)).to_have_count(2)
    expect(items(page).nth(0)).to_contain_text(DESIRED_IDENTIFIER)
    expect(field(page, "利用開始希望日")).to_have_value(desired.isoformat())
    button(page, "申込内容確認へ進む").click()
    assert_screen(page, "confirm")

    # 7 complete: the number on screen is the one filed, and its check letter is right
    button(page, "申込内容を登録する").click()
    assert_screen(page, "complete")
    number = page.locator('[data-field="reception_number"]').inner_text().strip()
    assert is_valid_reception_number(number), number
    draft.refresh_from_db()
    assert (draft.status, draft.reception_number) == (ApplicationStatus.SUBMITTED, number)
    shot(page, "complete")
    link(page, "メニューに戻る").click()
    assert_screen(page, "menu")
    return number


FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def check_receipt_email(sink: SmtpSink, number: str):
    (receipt,) = sink.wait_for(1, timeout=15)
    assert number in receipt.subject, receipt.subject
    assert receipt.rcpt_tos == ["demo-customer@example.com"]
    assert str(receipt.message["To"]) == "demo-customer@example.com"
    assert number in receipt.text
    assert DESIRED_IDENTIFIER in receipt.text
    return receipt


# --- 2. the demo reviewer: staff login with TOTP, take, approve with a later start date (SPEC §4) ----------------


def approve(page: Page, number: str, desired: datetime.date, confirmed: datetime.date, shot) -> None:
    username, password = REVIEWER
    page.goto("/staff/login/")
    assert_screen(page, "staff-login")
    field(page, "ユーザーID").fill(username)
    field(page, "パスワード").fill(password)
    field(page, "確認コード（認証アプリの6桁）").fill(totp_code(User.objects.get(username=username)))
    shot(page, "staff-login")
    button(page, "ログイン").click()

    assert_screen(page, "staff-queue")
    row = page.locator(f'tr[data-reception-number="{number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(USER_CODE)
    shot(page, "staff-queue")

    row.get_by_role("link", name=number).click()
    assert_screen(page, "staff-application")
    expect(page.locator('[data-field="status"]')).to_have_text("受付")
    shot(page, "staff-application")
    button(page, "担当する").click()
    assert_screen(page, "staff-application")
    expect(page.locator('[data-field="status"]')).to_have_text("内容確認中")
    start_date = field(page, "利用開始日")
    expect(start_date).to_have_value(desired.isoformat())
    start_date.fill(confirmed.isoformat())
    shot(page, "staff-take")

    button(page, "承認内容を確認する").click()
    assert_screen(page, "staff-approve-confirm")
    shot(page, "staff-approve-confirm")
    button(page, "承認する（IDを払い出す）").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text("承認しました。2件の利用者IDを払い出しました。")
    expect(page.locator('[data-field="status"]')).to_have_text("審査終了")
    expect(page.locator("li[data-issued-id]")).to_have_count(2)
    expect(page.locator("li[data-issued-id]", has_text=f"{USER_CODE}{DESIRED_IDENTIFIER}")).to_have_count(1)
    shot(page, "staff-approved")


def check_confirmation_email(sink: SmtpSink, receipt):
    received = sink.wait_for(2, timeout=15)
    assert received[0] is receipt
    confirmation = received[1]
    assert confirmation.subject == APPROVED_SUBJECT
    assert confirmation.rcpt_tos == ["demo-customer@example.com"]
    first, second = confirmation.text.splitlines()[:2]
    # addressed like the guide: company, office, department / name 様 (the applicant, prefilled from the account)
    assert first == f"{COMPANY} {OFFICE} 通関部", first
    assert second == "山田 花子 様", second
    return confirmation


def relative_login_link(text: str, base_url: str) -> str:
    links = URL.findall(text)
    assert len(links) == 1, links
    (link,) = links
    assert link.startswith(f"{base_url}/"), (link, base_url)
    return link.removeprefix(base_url)


# --- 3. the customer follows the link: 詳細 (screen 9) and ID通知内容 (screen 10) -------------------------------


def read_result_and_id_notice(
    page: Page, login_link: str, number: str, desired: datetime.date, confirmed: datetime.date, shot
) -> tuple[str, str]:
    username, password = CUSTOMER
    page.goto(login_link)
    assert_screen(page, "login")
    field(page, "ユーザーID").fill(username)
    field(page, "パスワード").fill(password)
    shot(page, "email-link-login")
    button(page, "ログイン").click()

    assert_screen(page, "application-detail")
    expect(page.locator('[data-field="reception_number"]')).to_have_text(number)
    expect(page.locator('[data-field="status"]')).to_have_text("審査終了")
    expect(page.locator('[data-field="start_date"] .nss-differs')).to_have_text(dates.format_date(confirmed))
    expect(page.locator('[data-field="start_date_note"]')).to_contain_text(
        f"ご希望の日（{dates.format_date(desired)}）と異なります"
    )
    expect(page.locator("tr[data-notice] td").nth(1)).to_have_text(
        f"NACCSのご利用は{confirmed.month}月{confirmed.day}日から可能です。"
    )
    expect(page.locator('[data-field="issued_ids"]')).to_contain_text(f"{USER_CODE}{DESIRED_IDENTIFIER}")
    shot(page, "application-detail")

    link(page, "ID通知内容").click()
    assert_screen(page, "id-notice")
    expect(page.locator('[data-field="reception_number"]')).to_have_text(number)
    rows = page.locator("#issued-ids tbody tr[data-issued-id]")
    expect(rows).to_have_count(2)
    interactive = rows.filter(has_text="インタラクティブ")
    expect(interactive).to_have_count(1)
    expect(interactive.locator("td").nth(5)).to_have_text(dates.format_date(confirmed))
    user_id = interactive.locator('[data-field="naccs_user_id"]').inner_text().strip()
    initial_password = interactive.locator('[data-field="initial_password"]').inner_text().strip()
    assert user_id == f"{USER_CODE}{DESIRED_IDENTIFIER}"
    assert initial_password
    shot(page, "id-notice")
    return user_id, initial_password


# --- 4. on the start date: UTB login, password change, UTB, UTB01 (SPEC §6) --------------------------------------


def register_licence_number(
    page: Page, user_id: str, initial_password: str, start_date: datetime.date, shot
) -> None:
    page.goto("/utb/login/")
    assert_screen(page, "utb-login")
    field(page, "利用者ID").fill(user_id)
    field(page, "パスワード").fill(initial_password)
    shot(page, "utb-login")
    button(page, "ログイン").click()

    assert_screen(page, "utb-password")
    expect(page.locator("main .alert-warning")).to_contain_text("初期パスワードのままです")
    expect(page.locator('[data-field="naccs_user_id"]')).to_have_text(user_id)
    field(page, "現在のパスワード").fill(initial_password)
    field(page, "新しいパスワード").fill(NEW_PASSWORD)
    field(page, "新しいパスワード（確認）").fill(NEW_PASSWORD)
    shot(page, "utb-password")
    button(page, "変更する").click()

    assert_screen(page, "utb-menu")
    expect(page.get_by_role("status")).to_contain_text("パスワードを変更しました。")
    shot(page, "utb-menu")

    page.get_by_role("link", name="UTB 通関士証票番号登録").click()
    assert_screen(page, "utb")
    field(page, "利用者ID").fill(user_id)
    field(page, "通関士証票番号").fill("12-7896")
    shot(page, "utb-input")
    button(page, "送信").click()
    assert_screen(page, "utb")
    expect(page.locator("#utb-result [data-result-code]")).to_have_text("00000")
    expect(page.locator("#utb-registered")).to_have_text(
        f"{user_id} に通関士証票番号「7896」を登録しました。"
    )
    shot(page, "utb-registered")

    page.get_by_role("link", name="UTB01", exact=True).click()
    assert_screen(page, "utb01")
    expect(page.locator("#utb-result [data-result-code]")).to_have_text("00000")
    row = page.locator(f'#utb01-items tr[data-user-id="{user_id}"]')
    expect(row).to_have_count(1)
    expect(row.locator('[data-field="licence_number"]')).to_have_text("7896")
    expect(row.locator("td").nth(3)).to_contain_text(start_date.strftime("%Y/%m/%d"))
    shot(page, "utb01")
