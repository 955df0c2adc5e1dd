"""SPEC §8 in headless Chromium at 1280 px: a reviewer's day — the counts, bulk take, 自分の担当, the two-step
approval (and a confirmation gone stale), then 利用開始日を変更する; the customer reads the corrected date."""

import pytest
from playwright.sync_api import Page, expect

from applications import business_calendar, clock, dates
from applications.models import Application, ApplicationStatus, NaccsUserId
from notifications.models import Email
from reviews import services
from tests.browser.conftest import browser_context
from tests.browser.test_filing_journey import assert_screen, button, field, log_in, staff_log_in
from tests.factories import PASSWORD, ContractFactory, CustomerFactory, staff_in, submitted_application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def assert_fits(page: Page) -> None:
    """The queue table fits the window (no horizontal scrolling) and none of its short cells wraps."""
    overflow = page.evaluate(
        "() => { const t = document.querySelector('table.nss-queue');"
        " return t.scrollWidth - t.parentElement.clientWidth; }"
    )
    assert overflow <= 0, f"the queue table is {overflow}px wider than the page"
    wrapped = page.evaluate(
        """() => [...document.querySelectorAll('table.nss-queue thead th')]
              .filter(th => th.textContent.trim() && th.getClientRects().length > 0
                      && th.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(th).lineHeight))
              .map(th => th.textContent.trim())"""
    )
    assert not wrapped, f"headers wrapped: {wrapped}"


def test_a_reviewers_day_two_step_approval_and_a_corrected_start_date(
    page: Page, browser, live_server, reviewer, screenshot
):
    customer = CustomerFactory(
        contract=ContractFactory(company_name="東都通関株式会社", office_name="横浜支店")
    )
    contract = customer.contract
    first = submitted_application(contract=contract, created_by=customer, identifiers=["K7Q"])
    second = submitted_application(contract=contract, created_by=customer)
    rival = submitted_application(contract=contract, created_by=customer, identifiers=["K7Q"])

    staff_log_in(page, reviewer, PASSWORD)
    assert_screen(page, "staff-queue")
    expect(page.locator('[data-count="submitted"] .badge')).to_have_text("3")
    expect(page.locator('[data-count="mine"] .badge')).to_have_text("0")
    assert_fits(page)
    screenshot(page, "staff-queue", prefix="workplace-")

    # tick two rows and take them at once
    page.get_by_label(f"{first.reception_number}を選択").check()
    page.get_by_label(f"{second.reception_number}を選択").check()
    button(page, "選択した申込を担当する").click()
    assert_screen(page, "staff-bulk-take")
    expect(page.locator('[data-bulk-result="taken"]')).to_have_count(2)
    expect(page.get_by_role("status")).to_contain_text("担当した申込：2件")
    screenshot(page, "staff-bulk-take", prefix="workplace-")

    # 自分の担当: the two, with the count and the filter in the URL
    page.get_by_role("link", name="自分の担当を見る").click()
    assert_screen(page, "staff-queue")
    assert "mine=on" in page.url
    expect(page.locator('[data-count="mine"] .badge')).to_have_text("2")
    expect(page.locator("tr[data-reception-number]")).to_have_count(2)

    # the first: 承認内容を確認する on a later date than desired
    page.get_by_role("link", name=first.reception_number).click()
    assert_screen(page, "staff-application")
    later = business_calendar.add_business_days(first.desired_start_date, 3)
    field(page, "利用開始日").fill(later.isoformat())
    button(page, "承認内容を確認する").click()
    assert_screen(page, "staff-approve-confirm")
    user_code = contract.user_code
    expect(page.locator(f'[data-planned-id="{user_code}K7Q"]')).to_have_count(1)
    expect(page.locator("[data-approval-warning]")).to_have_count(1)
    screenshot(page, "staff-approve-confirm", prefix="workplace-")

    # meanwhile a colleague approves the rival application, which also asked for K7Q: the confirmation is stale
    colleague = staff_in("reviewer", username="colleague")
    services.application_take(application=rival, actor=colleague)
    services.application_approve(application=Application.objects.get(pk=rival.pk), actor=colleague)
    button(page, "承認する（IDを払い出す）").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text("もう一度「承認内容を確認する」から確認してください。")
    assert not NaccsUserId.objects.filter(issued_by=first).exists()

    # confirm again: K7Q is taken now, and the screen says which one it gives instead
    field(page, "利用開始日").fill(later.isoformat())
    button(page, "承認内容を確認する").click()
    assert_screen(page, "staff-approve-confirm")
    expect(page.locator(f'[data-planned-id="{user_code}K7Q"]')).to_have_count(0)
    expect(page.locator("[data-approval-warning]", has_text="希望識別番号K7Qは使用済み")).to_have_count(1)
    button(page, "承認する（IDを払い出す）").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text("承認しました。1件の利用者IDを払い出しました。")

    # 利用開始日を変更する: one business day later still, with a reason
    corrected = business_calendar.add_business_days(later, 2)
    field(page, "変更後の利用開始日").fill(corrected.isoformat())
    field(page, "変更の理由（監査ログに記録されます）").fill("お客様から電話で延期のご依頼")
    button(page, "利用開始日を変更する").click()
    assert_screen(page, "staff-application")
    expect(page.get_by_role("status")).to_contain_text(
        f"利用開始日を{dates.format_date(corrected)}に変更しました。"
    )
    expect(page.locator("#audit-trail")).to_contain_text(
        f"利用開始日: {dates.format_date(later)} → {dates.format_date(corrected)}"
    )
    screenshot(page, "staff-start-date-changed", prefix="workplace-")

    first.refresh_from_db()
    assert (first.status, first.start_date) == (ApplicationStatus.APPROVED, corrected)
    assert {n.start_date for n in NaccsUserId.objects.filter(issued_by=first)} == {corrected}
    email = Email.objects.get(kind="application_start_date_changed", topic_id=first.pk)
    assert email.subject.startswith("【NSS】利用開始日変更のお知らせ")

    # the customer reads the corrected date and the notice with its year
    context = browser_context(browser, live_server)
    try:
        customer_page = context.new_page()
        log_in(customer_page, customer.username, PASSWORD)
        customer_page.goto(f"/applications/{first.pk}/")
        assert_screen(customer_page, "application-detail")
        main = customer_page.locator("main")
        expect(main).to_contain_text(
            f"NACCSのご利用は{corrected.year}年{corrected.month}月{corrected.day}日から可能です。"
        )
        expect(main).to_contain_text(dates.format_date(corrected))
        expect(main).not_to_contain_text("お客様から電話で延期のご依頼")  # the reason is the centre's
        screenshot(customer_page, "application-detail", prefix="workplace-")
    finally:
        context.close()
    assert clock.today() < corrected
