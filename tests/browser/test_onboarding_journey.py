"""SPEC §11 in headless Chromium, as the centre brings an office in: the approver registers the office and invites
its 管理者, who sets their own password from the e-mailed link, invites a colleague, and the colleague (after
setting a password the same way) files an application. Every new screen is audited with axe."""

import pytest
import time_machine
from playwright.sync_api import Page, expect

from applications import clock, rules
from applications.models import Application, ApplicationStatus, User
from tests.browser.test_accessibility import Audit, assert_error_announced, assert_labelled
from tests.browser.test_filing_journey import assert_screen, button, field, items, link, log_in, staff_log_in
from tests.factories import (
    FROZEN_AT,
    PASSWORD,
    emailed_link,
    ensure_processing_methods,
    staff_with_device,
)
from tests.nss_portal.test_invitations import INVITATION_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ADMIN_PASSWORD = "minato-no-kaze-ga-fuku"
COLLEAGUE_PASSWORD = "sakura-no-hana-ga-saku"


def set_own_password(page: Page, audit: Audit, address: str, password: str, label: str) -> None:
    page.goto(emailed_link(address, kind="customer_invitation", path=INVITATION_PATH))
    audit.check("invitation", f"invitation-{label}")
    assert_labelled(page, ["パスワード", "パスワード（確認）"])
    field(page, "パスワード").fill(password)
    field(page, "パスワード（確認）").fill(password)
    button(page, "パスワードを設定する").click()
    audit.check("invitation-done", f"invitation-done-{label}")


def test_the_centre_registers_an_office_invites_and_the_customer_files(
    page: Page, browser, live_server, screenshot
):
    with time_machine.travel(FROZEN_AT, tick=True):
        audit = Audit(page, screenshot)
        ensure_processing_methods()  # the flush of an earlier transactional test may have taken them
        approver = staff_with_device("approver", email="approver@nacc.example")

        # --- the centre: register the office, invite its 管理者
        staff_log_in(page, approver, PASSWORD)
        page.get_by_role("link", name="契約", exact=True).click()
        page.get_by_role("link", name="契約を登録する").click()
        field(page, "利用者コード").fill("7QZRX")
        field(page, "会社名").fill("みなと通関株式会社")
        field(page, "事業所名").fill("横浜事業所")
        page.get_by_label("インタラクティブ処理方式").check()
        page.get_by_label("netNACCS").check()
        button(page, "登録する").click()
        assert_screen(page, "staff-contract")
        invite = page.locator("form", has=page.get_by_role("button", name="招待する"))
        invite.get_by_label("ユーザーID").fill("minato-admin")
        invite.get_by_label("氏名").fill("港 太郎")
        invite.get_by_label("メールアドレス").fill("minato@example.co.jp")
        invite.get_by_label("事業所の管理者にする（同じ事業所の方を招待できます）").check()
        button(page, "招待する").click()
        audit.check("staff-contract", "staff-contract-invited")
        expect(page.locator('tr[data-account="minato-admin"]')).to_contain_text("招待中（パスワード未設定）")
        page.get_by_role("banner").get_by_role("button", name="ログアウト").click()

        # --- the 管理者 sets their own password, logs in, invites a colleague
        set_own_password(page, audit, "minato@example.co.jp", ADMIN_PASSWORD, "admin")
        log_in(page, "minato-admin", ADMIN_PASSWORD)
        page.get_by_role("link", name="事業所のアカウント（同じ事業所の方を招待する）").click()
        audit.check("office-accounts")
        assert_labelled(page, ["ユーザーID", "氏名", "メールアドレス", "部署", "電話番号"])
        button(page, "招待する").click()
        audit.check("office-accounts", "office-accounts-errors")
        assert_error_announced(page, "ユーザーID", "このフィールドは必須です。")
        field(page, "ユーザーID").fill("sato-hanako")
        field(page, "氏名").fill("佐藤 花子")
        field(page, "メールアドレス").fill("sato@example.co.jp")
        button(page, "招待する").click()
        audit.check("office-accounts", "office-accounts-invited")
        expect(page.locator('tr[data-account="sato-hanako"]')).to_contain_text("招待中（パスワード未設定）")
        page.get_by_role("link", name="メニューに戻る").click()
        page.get_by_role("banner").get_by_role("button", name="ログアウト").click()

        # --- the colleague sets a password and files an application
        set_own_password(page, audit, "sato@example.co.jp", COLLEAGUE_PASSWORD, "colleague")
        log_in(page, "sato-hanako", COLLEAGUE_PASSWORD)
        expect(page.locator("main")).to_contain_text("7QZRX")
        link(page, "通関士IDの追加").click()
        button(page, "通関士IDを追加する").click()
        assert_screen(page, "applicant")
        expect(field(page, "氏名")).to_have_value("佐藤 花子")
        field(page, "電話番号").fill("045-123-4567")
        button(page, "通関士用利用者IDの入力へ進む").click()
        assert_screen(page, "add-ids")
        field(page, "利用開始希望日").fill(rules.earliest_start_date(clock.today()).isoformat())
        field(page, "処理方式").select_option(label="インタラクティブ処理方式")
        field(page, "通関士氏名").fill("佐藤 花子")
        button(page, "設定する").click()
        expect(items(page)).to_have_count(1)
        button(page, "申込内容確認へ進む").click()
        button(page, "申込内容を登録する").click()
        assert_screen(page, "complete")
        audit.assert_clean()

    filed = Application.objects.get(created_by__username="sato-hanako")
    assert filed.status == ApplicationStatus.SUBMITTED
    assert filed.contract.user_code == "7QZRX"
    assert User.objects.get(username="minato-admin").is_office_admin
