"""パスワードの初期化 (SPEC §9, §10) in headless Chromium: a broker's 利用者ID works with its password; the customer
files the reset of that ID (menu → guidance → applicant → select-ids → confirm → complete), a reviewer takes it
and an approver approves it through 「承認内容を確認する」, the customer reads the new initial password in ID通知内容,
and at the UTB gateway the old password is refused at once, the new one leads to the password change, and UTB
answers U0001 with it until it is changed; after the change the broker registers a licence number."""

import pytest
import time_machine
from playwright.sync_api import Page, expect

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
from tests.factories import FROZEN_AT, PASSWORD, ContractFactory, CustomerFactory
from tests.utb_gateway import READY_PASSWORD, ready_id
from utb_gateway.services import naccs_id_u0001_reason

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RESET = ApplicationKind.RESET_PASSWORDS
CHANGED = "KAWA2345"


@pytest.fixture
def customer():
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


def utb_log_in(page: Page, user_id: str, password: str) -> None:
    page.goto("/utb/login/")
    assert_screen(page, "utb-login")
    field(page, "利用者ID").fill(user_id)
    field(page, "パスワード").fill(password)
    button(page, "ログイン").click()


def test_customer_resets_a_forgotten_password_and_the_broker_logs_in_with_the_new_one(
    page: Page, browser, live_server, customer, reviewer, approver, settings, screenshot
):
    settings.NSS_FOUR_EYES = True
    broker = ready_id(customer.contract, identifier="A0A", broker_name="通関 一郎")
    ready_id(customer.contract, identifier="G01", is_customs_broker=False)
    user_id = broker.naccs_user_id
    # time_machine patches the whole process, so the live server's thread sees the same (ticking) clock: a
    # Monday 10:00 JST, inside UTB hours.
    with time_machine.travel(FROZEN_AT, tick=True):
        # --- before: the broker's own password works at the gateway
        context = browser_context(browser, live_server)
        try:
            utb = context.new_page()
            utb_log_in(utb, user_id, READY_PASSWORD)
            assert_screen(utb, "utb-menu")
            screenshot(utb, "utb-menu-before", prefix="reset-")
        finally:
            context.close()

        # --- the customer: menu → guidance → applicant → select-ids → confirm → complete
        log_in(page, customer.username, PASSWORD)
        link(page, "パスワードの初期化").click()
        assert_screen(page, "guidance")
        expect(page.locator("main")).to_have_attribute("data-kind", RESET)
        expect(page.locator("h1")).to_have_text("パスワード初期化ガイダンス画面")
        screenshot(page, "guidance", prefix="reset-")
        button(page, "パスワードを初期化する").click()
        assert_screen(page, "applicant")
        expect(page.locator("main")).to_have_attribute("data-kind", RESET)
        button(page, "対象IDの選択へ進む").click()
        assert_screen(page, "select-ids")
        expect(page.locator("main")).to_have_attribute("data-kind", RESET)
        expect(page.locator("tr[data-selectable]")).to_have_count(2)  # the 通関士ID and the ordinary ID
        expect(page.locator('input[type="date"]')).to_have_count(0)
        page.get_by_label(user_id, exact=True).check()
        screenshot(page, "select-ids", prefix="reset-")
        button(page, "申込内容確認へ進む").click()
        assert_screen(page, "confirm")
        expect(page.locator(f'tr[data-target="{user_id}"]')).to_have_count(1)
        expect(page.locator("#application-items tr[data-item]")).to_have_count(1)
        screenshot(page, "confirm", prefix="reset-")
        button(page, "申込内容を登録する").click()
        assert_screen(page, "complete")
        number = page.locator('[data-field="reception_number"]').inner_text().strip()
        assert RECEPTION_NUMBER.match(number)
        application = Application.objects.get(reception_number=number)
        assert application.kind == RESET and application.status == ApplicationStatus.SUBMITTED

        # --- the NACCS centre: a reviewer takes it, an approver approves it (four eyes)
        for person, action in ((reviewer, "take"), (approver, "approve")):
            context = browser_context(browser, live_server)
            try:
                staff = context.new_page()
                staff_log_in(staff, person, PASSWORD)
                staff.get_by_label("申込の種類").select_option(RESET)
                button(staff, "絞り込む").click()
                row = staff.locator(f'tr[data-reception-number="{number}"]')
                expect(row).to_contain_text("パスワードの初期化")
                row.get_by_role("link", name=number).click()
                assert_screen(staff, "staff-application")
                if action == "take":
                    button(staff, "担当する").click()
                    expect(staff.get_by_role("status")).to_contain_text("この申込を担当しました。")
                    continue
                expect(staff.locator('main input[type="date"]')).to_have_count(0)
                button(staff, "承認内容を確認する").click()
                assert_screen(staff, "staff-approve-confirm")
                expect(staff.locator("[data-reset-id]")).to_have_count(1)
                expect(staff.locator(f'[data-reset-id="{user_id}"]')).to_have_count(1)
                screenshot(staff, "staff-approve-confirm", prefix="reset-")
                button(staff, "承認する（パスワードを初期化する）").click()
                assert_screen(staff, "staff-application")
                expect(staff.get_by_role("status")).to_contain_text(
                    "承認しました。1件の利用者IDのパスワードを初期化しました。"
                )
                expect(staff.locator("#audit-trail li[data-audit-action]").last).to_contain_text(user_id)
                screenshot(staff, "staff-approved", prefix="reset-")
            finally:
                context.close()

        # --- the customer reads the new initial password
        link(page, "メニューに戻る").click()
        link(page, "申込状況一覧").click()
        page.locator(f'tr[data-reception-number="{number}"]').get_by_role(
            "link", name=f"{number}の詳細"
        ).click()
        assert_screen(page, "application-detail")
        expect(page.locator('[data-field="reset_ids"]')).to_have_text(user_id)
        screenshot(page, "application-detail", prefix="reset-")
        link(page, "ID通知内容").click()
        assert_screen(page, "id-notice")
        row = page.locator(f'#issued-ids tr[data-issued-id="{user_id}"]')
        expect(row).to_have_count(1)
        expect(page.locator("#issued-ids tr[data-issued-id]")).to_have_count(1)
        new_password = row.locator('[data-field="initial_password"]').inner_text().strip()
        assert new_password and new_password != READY_PASSWORD
        screenshot(page, "id-notice", prefix="reset-")

        # --- the UTB effect: the old password is refused at once; the new one must be changed first
        context = browser_context(browser, live_server)
        try:
            utb = context.new_page()
            utb_log_in(utb, user_id, READY_PASSWORD)
            assert_screen(utb, "utb-login")
            expect(utb.locator("main")).to_contain_text("利用者IDまたはパスワードが正しくありません。")
            screenshot(utb, "utb-old-password-refused", prefix="reset-")
            utb_log_in(utb, user_id, new_password)
            assert_screen(utb, "utb-password")
            expect(utb.locator("main .alert-warning")).to_contain_text("初期パスワードのままです")
            assert naccs_id_u0001_reason(NaccsUserId.objects.get(pk=broker.pk), today=FROZEN_AT.date()) == (
                "パスワードが未変更です。"
            )
            # Until the change, UTB answers U0001.
            utb.goto("/utb/utb/")
            assert_screen(utb, "utb")
            field(utb, "利用者ID").fill(user_id)
            field(utb, "通関士証票番号").fill("7896")
            button(utb, "送信").click()
            expect(utb.locator("#utb-result [data-result-code]")).to_have_text("U0001")
            screenshot(utb, "utb-u0001", prefix="reset-")
            utb.goto("/utb/password/")
            assert_screen(utb, "utb-password")
            field(utb, "現在のパスワード").fill(new_password)
            field(utb, "新しいパスワード").fill(CHANGED)
            field(utb, "新しいパスワード（確認）").fill(CHANGED)
            button(utb, "変更する").click()
            assert_screen(utb, "utb-menu")
            utb.get_by_role("link", name="UTB 通関士証票番号登録").click()
            field(utb, "利用者ID").fill(user_id)
            field(utb, "通関士証票番号").fill("7896")
            button(utb, "送信").click()
            expect(utb.locator("#utb-result [data-result-code]")).to_have_text("00000")
            screenshot(utb, "utb-registered", prefix="reset-")
        finally:
            context.close()

        # --- and the ID notice now says 「変更済み」
        page.reload()
        expect(row.locator('[data-field="password_changed"]')).to_have_text("変更済み")
        expect(row.locator('[data-field="initial_password"]')).to_have_count(0)
        screenshot(page, "id-notice-changed", prefix="reset-")
