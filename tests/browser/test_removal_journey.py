"""通関士IDの削除 (SPEC §9) in headless Chromium: the customer files the removal of one 通関士ID (menu → guidance →
applicant → select-ids → confirm → complete), a reviewer approves it through 「承認内容を確認する」, the customer
reads the result (詳細: the 利用終了日 and the removed ID), and from that day the UTB gateway refuses the ID."""

import datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect

from applications import business_calendar, clock, dates, rules
from applications.models import Application, ApplicationKind, ApplicationStatus, NaccsUserId
from tests.browser.conftest import browser_context
from tests.browser.test_filing_journey import (
    RECEPTION_NUMBER,
    assert_screen,
    button,
    field,
    link,
    log_in,
    staff_log_in,
)
from tests.browser.test_reset_journey import utb_log_in
from tests.factories import PASSWORD, ContractFactory, CustomerFactory
from tests.utb_gateway import READY_PASSWORD, ready_id
from utb_gateway.services import naccs_id_login_refusal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REMOVE = ApplicationKind.REMOVE_BROKER_IDS


@pytest.fixture
def customer():
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


@pytest.fixture
def broker_ids(customer):
    return [
        # Working IDs (started, password changed): the brokers use them at the UTB gateway until the end date.
        ready_id(customer.contract, identifier="A0A", broker_name="通関 一郎"),
        ready_id(customer.contract, identifier="B0B", broker_name="通関 二郎"),
    ]


def test_customer_files_a_removal_staff_approve_it_and_the_id_stops_on_its_end_date(
    page: Page, browser, live_server, customer, broker_ids, reviewer, screenshot
):
    user_code = customer.contract.user_code
    removed = f"{user_code}A0A"
    end = rules.earliest_start_date(clock.today())

    # --- the customer: menu → guidance → applicant → select-ids → confirm → complete
    log_in(page, customer.username, PASSWORD)
    link(page, "通関士IDの削除").click()
    assert_screen(page, "guidance")
    expect(page.locator("main")).to_have_attribute("data-kind", REMOVE)
    screenshot(page, "guidance", prefix="removal-")
    button(page, "通関士IDを削除する").click()
    assert_screen(page, "applicant")
    expect(page.locator("main")).to_have_attribute("data-kind", REMOVE)
    button(page, "対象IDの選択へ進む").click()
    assert_screen(page, "select-ids")
    expect(page.locator("main")).to_have_attribute("data-kind", REMOVE)
    expect(page.locator("tr[data-selectable]")).to_have_count(2)
    page.get_by_label(removed, exact=True).check()
    field(page, "利用終了希望日").fill(end.isoformat())
    screenshot(page, "select-ids", prefix="removal-")
    button(page, "申込内容確認へ進む").click()
    assert_screen(page, "confirm")
    expect(page.locator("main")).to_have_attribute("data-kind", REMOVE)
    expect(page.locator("#application-items tr[data-item]")).to_have_count(1)
    expect(page.locator(f'tr[data-target="{removed}"]')).to_have_count(1)
    expect(page.locator('[data-field="desired_end_date"]')).to_have_text(dates.format_date(end))
    expect(page.locator("main").get_by_role("link", name="対象IDの選択に戻る")).to_have_count(1)
    screenshot(page, "confirm", prefix="removal-")
    button(page, "申込内容を登録する").click()
    assert_screen(page, "complete")
    number = page.locator('[data-field="reception_number"]').inner_text().strip()
    assert RECEPTION_NUMBER.match(number)
    screenshot(page, "complete", prefix="removal-")
    application = Application.objects.get(reception_number=number)
    assert application.kind == REMOVE and application.status == ApplicationStatus.SUBMITTED

    # --- the NACCS centre, in a browser context of its own: the queue filtered by kind, take, confirm, approve
    context = browser_context(browser, live_server)
    try:
        staff = context.new_page()
        staff_log_in(staff, reviewer, PASSWORD)
        staff.get_by_label("申込の種類").select_option(REMOVE)
        button(staff, "絞り込む").click()
        row = staff.locator(f'tr[data-reception-number="{number}"]')
        expect(row).to_contain_text("通関士IDの削除")
        row.get_by_role("link", name=number).click()
        assert_screen(staff, "staff-application")
        button(staff, "担当する").click()
        expect(field(staff, "利用終了日")).to_have_value(end.isoformat())
        button(staff, "承認内容を確認する").click()
        assert_screen(staff, "staff-approve-confirm")
        expect(staff.locator("[data-removed-id]")).to_have_count(1)
        expect(staff.locator(f'[data-removed-id="{removed}"]')).to_have_count(1)
        expect(staff.locator('[data-field="end_date"]')).to_have_text(dates.format_date(end))
        screenshot(staff, "staff-approve-confirm", prefix="removal-")
        button(staff, "承認する（IDを削除する）").click()
        assert_screen(staff, "staff-application")
        expect(staff.get_by_role("status")).to_contain_text(
            "承認しました。1件の通関士IDを利用終了日から削除します。"
        )
        expect(staff.locator("#audit-trail li[data-audit-action]").last).to_contain_text(removed)
        screenshot(staff, "staff-approved", prefix="removal-")
    finally:
        context.close()

    # --- the customer reads the result
    link(page, "メニューに戻る").click()
    link(page, "申込状況一覧").click()
    page.locator(f'tr[data-reception-number="{number}"]').get_by_role("link", name=f"{number}の詳細").click()
    assert_screen(page, "application-detail")
    expect(page.locator('[data-field="end_date"]')).to_have_text(dates.format_date(end))
    expect(page.locator('[data-field="removed_ids"]')).to_have_text(removed)
    expect(page.locator("main").get_by_role("link", name="ID通知内容")).to_have_count(0)
    screenshot(page, "application-detail", prefix="removal-")

    # --- the UTB effect: the removed ID works until its end date and answers U0001 from it; the other works on
    gone = NaccsUserId.objects.get(contract=customer.contract, identifier="A0A")
    kept = NaccsUserId.objects.get(contract=customer.contract, identifier="B0B")
    assert gone.revoked_at == clock.start_of_day(end)
    assert naccs_id_login_refusal(gone, today=clock.today()) is None
    assert naccs_id_login_refusal(gone, today=end) == "この利用者IDは廃止されています。"
    assert naccs_id_login_refusal(kept, today=end) is None

    # --- the same, at the UTB gateway in the browser (10:00 Japan time, inside UTB hours): on the last business
    # day before the end date the removed ID logs in; from the end date it answers U0001 (廃止), and UTB01 of the
    # office's other broker no longer lists it. time_machine moves the live server's clock too (same process).
    day_before = end - datetime.timedelta(days=1)
    while not business_calendar.is_business_day(day_before):
        day_before -= datetime.timedelta(days=1)
    kept_id = f"{user_code}B0B"
    context = browser_context(browser, live_server)
    try:
        utb = context.new_page()
        with time_machine.travel(
            datetime.datetime.combine(day_before, datetime.time(10), clock.JST), tick=True
        ):
            utb_log_in(utb, removed, READY_PASSWORD)
            assert_screen(utb, "utb-menu")
            utb.goto("/utb/utb01/")
            expect(utb.locator(f'tr[data-user-id="{removed}"]')).to_have_count(1)
            screenshot(utb, "utb01-before-end-date", prefix="removal-")
        context.clear_cookies()
        with time_machine.travel(datetime.datetime.combine(end, datetime.time(10), clock.JST), tick=True):
            utb_log_in(utb, removed, READY_PASSWORD)
            assert_screen(utb, "utb-login")
            expect(utb.locator("#form-errors [data-result-code]")).to_have_text("U0001")
            expect(utb.locator('#form-errors [data-field="reason"]')).to_have_text(
                "この利用者IDは廃止されています。"
            )
            screenshot(utb, "utb-removed-id-u0001", prefix="removal-")
            utb_log_in(utb, kept_id, READY_PASSWORD)
            assert_screen(utb, "utb-menu")
            utb.goto("/utb/utb01/")
            expect(utb.locator(f'tr[data-user-id="{kept_id}"]')).to_have_count(1)
            expect(utb.locator(f'tr[data-user-id="{removed}"]')).to_have_count(0)
            screenshot(utb, "utb01-on-end-date", prefix="removal-")
    finally:
        context.close()
