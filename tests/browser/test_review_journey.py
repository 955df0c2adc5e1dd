"""SPEC §4 then screens 9–10 of §3 in headless Chromium: a reviewer approves an application with a later start
date than the one asked, then the customer reads the result (詳細) and the ID notice (ID通知内容)."""

import re

import pytest
from playwright.sync_api import Page, expect

from applications import business_calendar, crypto, dates
from applications.models import Application, ApplicationStatus, NaccsUserId
from tests.browser.conftest import browser_context
from tests.browser.test_filing_journey import assert_screen, button, field, link, log_in
from tests.factories import PASSWORD, ContractFactory, CustomerFactory, submitted_application, totp_code

# The same database marker as test_filing_journey.py: the live server runs in another thread, so the data must
# be committed; serialized_rollback restores the migrations' reference data after each flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESIRED_IDENTIFIER = "K7Q"


@pytest.fixture
def customer():
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


@pytest.fixture
def application(customer) -> Application:
    """Filed through the real submission service with one ID per processing method: interactive with a desired
    識別番号, netNACCS with none."""
    return submitted_application(
        contract=customer.contract,
        created_by=customer,
        methods=("interactive", "netnaccs"),
        identifiers=(DESIRED_IDENTIFIER, ""),
    )


def test_reviewer_approves_with_a_later_start_date_and_the_customer_reads_the_id_notice(
    page: Page, browser, live_server, customer, application, reviewer, screenshot
):
    desired = application.desired_start_date
    confirmed = business_calendar.add_business_days(desired, 2)
    assert confirmed > desired
    number = application.reception_number

    # --- the NACCS centre: staff login with the second factor (TOTP)
    page.goto("/staff/login/")
    assert_screen(page, "staff-login")
    field(page, "ユーザーID").fill(reviewer.username)
    field(page, "パスワード").fill(PASSWORD)
    field(page, "確認コード（認証アプリの6桁）").fill(totp_code(reviewer))
    screenshot(page, "staff-login", prefix="review-")
    button(page, "ログイン").click()

    # queue: the application is there, oldest first
    assert_screen(page, "staff-queue")
    row = page.locator(f'tr[data-reception-number="{number}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(customer.contract.user_code)
    expect(row).to_contain_text("受付")
    screenshot(page, "staff-queue", prefix="review-")

    # application page: take it
    row.get_by_role("link", name=number).click()
    assert_screen(page, "staff-application")
    expect(page.locator('[data-field="status"]')).to_have_text("受付")
    screenshot(page, "staff-application", prefix="review-")
    button(page, "担当する").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text("この申込を担当しました。")
    expect(page.locator('[data-field="status"]')).to_have_text("内容確認中")
    # the date offered is the desired one; the reviewer confirms a later business day instead
    start_date = field(page, "利用開始日")
    expect(start_date).to_have_value(desired.isoformat())
    start_date.fill(confirmed.isoformat())
    screenshot(page, "staff-take", prefix="review-")

    # approve in two steps (SPEC §8): first what will happen, nothing changed yet …
    button(page, "承認内容を確認する").click()
    assert_screen(page, "staff-approve-confirm")
    expect(page.locator("[data-planned-id]")).to_have_count(2)
    expect(
        page.locator(f'[data-planned-id="{customer.contract.user_code}{DESIRED_IDENTIFIER}"]')
    ).to_have_count(1)
    expect(page.locator('[data-field="start_date"]')).to_have_text(dates.format_date(confirmed))
    expect(page.locator("[data-approval-warning]").first).to_contain_text("利用開始希望日")
    expect(page.locator('[data-field="notice"]')).to_have_text(
        f"NACCSのご利用は{confirmed.month}月{confirmed.day}日から可能です。"
    )
    assert not NaccsUserId.objects.filter(issued_by=application).exists()
    screenshot(page, "staff-approve-confirm", prefix="review-")
    # … then the IDs are issued
    button(page, "承認する（IDを払い出す）").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text("承認しました。2件の利用者IDを払い出しました。")
    expect(page.locator('[data-field="status"]')).to_have_text("審査終了")
    expect(page.locator("main")).to_contain_text("この申込の審査は終了しています。")
    issued = list(NaccsUserId.objects.filter(issued_by=application).order_by("item_id"))
    assert len(issued) == 2
    shown_ids = page.locator("li[data-issued-id]")
    expect(shown_ids).to_have_count(2)
    for naccs_id in issued:
        expect(page.locator("li[data-issued-id]", has_text=naccs_id.naccs_user_id)).to_have_count(1)
    trail = page.locator("#audit-trail li[data-audit-action]")
    expect(trail.locator("strong")).to_have_text(["申込（受付）", "担当", "承認・ID払出し"])
    expect(trail.nth(1)).to_contain_text(reviewer.username)
    expect(trail.nth(2)).to_contain_text(reviewer.username)
    screenshot(page, "staff-approved", prefix="review-")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.start_date == confirmed
    assert application.reviewer == reviewer

    # --- the customer, in a browser context of their own (no staff session)
    context = browser_context(browser, live_server)
    try:
        customer_page = context.new_page()
        check_customer_screens(customer_page, customer, application, issued, confirmed, screenshot)
    finally:
        context.close()


def check_customer_screens(page: Page, customer, application, issued, confirmed, screenshot) -> None:
    user_code = customer.contract.user_code
    number = application.reception_number

    # 1 login → 2 menu → 8 申込状況一覧
    log_in(page, customer.username, PASSWORD)
    link(page, "申込状況一覧").click()
    assert_screen(page, "application-list")
    row = page.locator(f'tr[data-reception-number="{number}"]')
    expect(row).to_contain_text("審査終了")
    expect(row).to_contain_text(dates.format_date(confirmed))
    screenshot(page, "application-list", prefix="review-")

    # 9 詳細: the confirmed date, highlighted, and the automatic notice saying when NACCS can be used
    row.get_by_role("link", name=f"{number}の詳細").click()
    assert_screen(page, "application-detail")
    expect(page.locator('[data-field="reception_number"]')).to_have_text(number)
    expect(page.locator('[data-field="status"]')).to_have_text("審査終了")
    differs = page.locator('[data-field="start_date"] .nss-differs')
    expect(differs).to_have_count(1)
    expect(differs).to_have_text(dates.format_date(confirmed))
    expect(page.locator('[data-field="start_date_note"]')).to_contain_text(
        f"ご希望の日（{dates.format_date(application.desired_start_date)}）と異なります"
    )
    expect(page.locator("tr[data-notice]")).to_have_count(1)
    expect(page.locator("tr[data-notice] td").nth(1)).to_have_text(
        f"NACCSのご利用は{confirmed.month}月{confirmed.day}日から可能です。"
    )
    for naccs_id in issued:
        expect(page.locator('[data-field="issued_ids"]')).to_contain_text(naccs_id.naccs_user_id)
    screenshot(page, "application-detail", prefix="review-")

    # 10 ID通知内容: both IDs with the initial passwords that were stored encrypted
    link(page, "ID通知内容").click()
    assert_screen(page, "id-notice")
    expect(page.locator('[data-field="user_code"]')).to_have_text(user_code)
    rows = page.locator("#issued-ids tbody tr[data-issued-id]")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index).locator("td").nth(5)).to_have_text(dates.format_date(confirmed))
    shown_ids = [text.strip() for text in rows.locator('[data-field="naccs_user_id"]').all_inner_texts()]
    shown_passwords = [
        text.strip() for text in rows.locator('[data-field="initial_password"]').all_inner_texts()
    ]
    # the page lists them by 識別番号; `issued` is in the order of the IDs asked (interactive first)
    stored = {
        naccs_id.naccs_user_id: crypto.decrypt(naccs_id.initial_password_encrypted) for naccs_id in issued
    }
    assert dict(zip(shown_ids, shown_passwords, strict=True)) == stored
    assert all(shown_passwords), shown_passwords
    assert all(re.fullmatch(rf"{re.escape(user_code)}[A-Z0-9]{{3}}", shown) for shown in shown_ids), shown_ids
    assert sorted(shown.endswith(DESIRED_IDENTIFIER) for shown in shown_ids) == [False, True]
    assert issued[0].naccs_user_id == f"{user_code}{DESIRED_IDENTIFIER}"
    assert issued[0].processing_method.code == "interactive"
    assert issued[1].processing_method.code == "netnaccs"
    for shown in shown_ids:
        identifier = shown.removeprefix(user_code)
        assert "O" not in identifier and "I" not in identifier, shown
    screenshot(page, "id-notice", prefix="review-")

    # printed: the header (and the hints and buttons) are not on paper, the IDs are
    header = page.locator(".nss-header")
    expect(header).to_be_visible()
    page.emulate_media(media="print")
    expect(header).to_be_hidden()
    expect(page.locator('[data-field="print_hint"]')).to_be_hidden()
    expect(link(page, "戻る")).to_be_hidden()
    expect(rows).to_have_count(2)
    expect(rows.first).to_be_visible()
    screenshot(page, "id-notice-print", prefix="review-")
    page.emulate_media(media="screen")
    expect(header).to_be_visible()
