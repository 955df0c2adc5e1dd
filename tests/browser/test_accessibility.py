"""Accessibility of every screen in headless Chromium: axe-core finds no serious or critical violation, every
form control is named by its <label for>, a field's error is announced with the field (aria-describedby →
the message, aria-invalid="true"), and the filing journey can be completed with the keyboard alone.

axe-core comes with axe-playwright-python (its bundled axe.min.js; nothing is fetched). The data are built
through the real services, at FROZEN_AT (a Monday 10:00 JST, inside the UTB hours), the clock ticking.
"""

import base64
import datetime
import re
import sys
from dataclasses import dataclass, field

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from applications import business_calendar, clock, rules
from applications.models import Application, ApplicationStatus
from reviews.services import application_approve, application_reject, application_take
from tests.browser.test_filing_journey import (
    RECEPTION_NUMBER,
    assert_screen,
    button,
    link,
    log_in,
    staff_log_in,
)
from tests.browser.test_filing_journey import field as labelled
from tests.factories import (
    ENROL_PASSWORD,
    FROZEN_AT,
    PASSWORD,
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    code_for,
    enrolment_link,
    password_reset_link,
    staff_in,
    staff_with_device,
    submitted_application,
    totp_code,
)
from tests.utb_gateway import READY_PASSWORD, ready_id

# The same database marker as the other browser tests: the live server runs in another thread, so the data
# must be committed; serialized_rollback restores the migrations' reference data after each flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BLOCKING_IMPACTS = {"serious", "critical"}
AXE = Axe()

# Every visible form control, with the text of the <label>s tied to it (HTMLInputElement.labels: a
# <label for=id> or a wrapping <label>), its accessible-name fallbacks, and what describes it.
CONTROLS_JS = """
() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(el => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button'
               && el.getClientRects().length > 0)
  .map(el => ({
    id: el.id,
    name: el.name,
    tag: el.tagName.toLowerCase(),
    labels: [...(el.labels || [])].map(label => label.textContent.replace(/\\*/g, '').trim()),
    labelFor: el.id ? document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`).length : 0,
  }))
"""

# What a screen reader hears with the control: aria-invalid, and the text of every element its
# aria-describedby names (missing ids reported as such).
DESCRIPTION_JS = """
el => {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  return {
    ariaInvalid: el.getAttribute('aria-invalid'),
    isInvalid: el.classList.contains('is-invalid'),
    describedby: ids,
    missing: ids.filter(id => !document.getElementById(id)),
    description: ids.map(id => document.getElementById(id)).filter(Boolean)
                    .map(node => node.textContent.trim()).join(' '),
  };
}
"""


@dataclass
class Audit:
    """Runs axe on each screen visited, keeps a screenshot of it, and collects the blocking violations."""

    page: Page
    screenshot: object
    screens: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    minor: list[str] = field(default_factory=list)  # moderate/minor: printed (pytest -s), not failed

    def check(self, screen: str, label: str | None = None) -> None:
        assert_screen(self.page, screen)
        name = label or screen
        self.screenshot(self.page, name, prefix="a11y-")
        self.screens.append(name)
        results = AXE.run(self.page)
        for violation in results.response["violations"]:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
            line = f"[{name}] {violation['id']} ({violation['impact']}): {violation['help']} → {targets}"
            (self.found if violation["impact"] in BLOCKING_IMPACTS else self.minor).append(line)

    def assert_clean(self) -> None:
        print(f"axe-core ran on {len(self.screens)} screens: {', '.join(self.screens)}")
        print("moderate/minor (not failed):", *self.minor or ["none"], sep="\n  ")
        assert not self.found, f"axe-core: serious/critical violations on {len(self.found)} screen(s):\n" + (
            "\n".join(self.found)
        )


def normalised(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_labelled(page: Page, expected: list[str]) -> None:
    """Every visible control of <main> has exactly one <label for> naming it, and those labels are `expected`
    (in document order); each is also found by its label, the way assistive technology finds it."""
    controls = page.evaluate(CONTROLS_JS)
    unlabelled = [c for c in controls if c["labelFor"] != 1 or not any(c["labels"])]
    assert not unlabelled, f"controls without a <label for>: {unlabelled}"
    assert [normalised(c["labels"][0]) for c in controls] == [normalised(text) for text in expected]
    for text in expected:
        expect(labelled(page, text)).to_have_count(1)


def assert_error_announced(page: Page, label: str, message: str) -> None:
    """The field labelled `label` shows `message` next to it, is marked invalid, and its aria-describedby
    points at the element holding the message (so a screen reader reads the error with the field)."""
    control = labelled(page, label)
    wrapper = page.locator(f"#div_{control.get_attribute('id')}")
    expect(wrapper.locator(".invalid-feedback")).to_contain_text(message)
    expect(wrapper.locator(".invalid-feedback")).to_be_visible()
    state = control.evaluate(DESCRIPTION_JS)
    assert state["ariaInvalid"] == "true", state
    assert state["isInvalid"], state
    assert not state["missing"], f"aria-describedby names missing elements: {state}"
    assert message in state["description"], f"the error is not in the field's description: {state}"


def assert_no_error_marked(page: Page, label: str) -> None:
    state = labelled(page, label).evaluate(DESCRIPTION_JS)
    assert state["ariaInvalid"] is None and not state["isInvalid"], state


@pytest.fixture
def clock_at_frozen():
    with time_machine.travel(FROZEN_AT, tick=True) as traveller:
        yield traveller


@pytest.fixture
def customer(clock_at_frozen):
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


def test_the_audit_reports_a_critical_violation(page: Page, screenshot):
    """The audit is not vacuous: an unlabelled input and an image without alt put into the login page are
    reported as critical."""
    page.goto("/login/")
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML(
             'beforeend', '<input type="text" name="stray"><img src="/static/none.png">')"""
    )
    audit = Audit(page, screenshot)
    audit.check("login", "login-with-injected-faults")
    assert any(" label (critical)" in line for line in audit.found), audit.found
    assert any(" image-alt (critical)" in line for line in audit.found), audit.found
    with pytest.raises(AssertionError, match="serious/critical violations"):
        audit.assert_clean()


# --- error pages (SPEC §8) -------------------------------------------------------------------------------------


def test_error_pages(page: Page, customer, screenshot):
    audit = Audit(page, screenshot)
    log_in(page, customer.username, PASSWORD)
    page.goto("/applications/999999/")
    audit.check("not-found")
    page.goto("/staff/")
    audit.check("forbidden")
    page.get_by_role("link", name="審査キューに戻る").click()
    audit.check("forbidden", "forbidden-again")
    audit.assert_clean()


# --- a customer's second step, when the contract requires an authenticator (SPEC §11) ------------------------


def test_customer_second_step_screens(page: Page, clock_at_frozen, screenshot):
    audit = Audit(page, screenshot)
    customer = CustomerFactory(contract=ContractFactory(customer_totp_required=True))
    page.goto("/login/")
    labelled(page, "ユーザーID").fill(customer.username)
    labelled(page, "パスワード").fill(PASSWORD)
    button(page, "ログイン").click()
    audit.check("login-otp", "login-otp-setup")
    assert_labelled(page, ["確認コード（認証アプリの6桁）"])
    button(page, "登録してログインする").click()
    audit.check("login-otp", "login-otp-errors")
    assert_error_announced(page, "確認コード（認証アプリの6桁）", "このフィールドは必須です。")
    secret = page.locator('[data-field="totp-secret"]').inner_text()
    secret = "".join(secret.split())
    labelled(page, "確認コード（認証アプリの6桁）").fill(
        code_for(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    )
    button(page, "登録してログインする").click()
    assert_screen(page, "menu")
    audit.assert_clean()


# --- contracts (SPEC §11) -------------------------------------------------------------------------------------


def test_contract_screens(page: Page, customer, screenshot):
    """The approver registers an office and opens it: list, empty form (errors announced), the contract page."""
    audit = Audit(page, screenshot)
    staff_log_in(page, staff_with_device("approver", email="approver@nacc.example"), PASSWORD)

    page.get_by_role("link", name="契約", exact=True).click()
    audit.check("staff-contracts")
    assert_labelled(page, ["検索（利用者コード・会社名・事業所名）"])
    page.get_by_role("link", name="契約を登録する").click()
    audit.check("staff-contract-new")
    button(page, "登録する").click()
    audit.check("staff-contract-new", "staff-contract-new-errors")
    assert_error_announced(page, "会社名", "このフィールドは必須です。")
    labelled(page, "利用者コード").fill("7qzrx")
    labelled(page, "会社名").fill("みなと通関株式会社")
    labelled(page, "事業所名").fill("横浜事業所")
    page.get_by_label("インタラクティブ処理方式").check()
    button(page, "登録する").click()
    audit.check("staff-contract")
    expect(page.locator('[data-field="user_code"]')).to_have_text("7QZRX")
    page.get_by_role("link", name="契約一覧").click()
    audit.check("staff-contracts", "staff-contracts-one")
    expect(page.locator('tr[data-user-code="7QZRX"]')).to_have_count(1)

    # 契約の一括登録: a file with an error, checked (the default), then listed with its row and column
    page.get_by_role("link", name="CSVで一括登録する").click()
    audit.check("staff-contract-import")
    assert_labelled(page, ["CSVファイル", "確認のみ（取り込まずに、変更内容とエラーだけを表示する）"])
    header = "種別,利用者コード,会社名,事業所名,部署,所在地,処理方式,識別番号,通関士ID,通関士氏名,利用開始日,廃止日,ユーザーID,氏名,電話番号,メールアドレス"
    page.get_by_label("CSVファイル").set_input_files(
        files=[
            {
                "name": "contracts.csv",
                "mimeType": "text/csv",
                "buffer": f"{header}\n契約,7QZ,x,y,,,interactive,,,,,,,,,\n".encode(),
            }
        ]
    )
    button(page, "ファイルを確認・取り込む").click()
    audit.check("staff-contract-import", "staff-contract-import-errors")
    expect(page.locator("#import-errors tr[data-row='2']")).to_contain_text("利用者コード")
    audit.assert_clean()


# --- 「パスワードをお忘れの方」 (SPEC §11) ---------------------------------------------------------------------


def test_password_reset_screens(page: Page, customer, screenshot):
    """The whole reset as the customer does it, every screen state audited: the link on the login screen, the
    address (an empty one refused next to the field), the same answer, the e-mailed link, a weak password refused,
    the new password, a used link refused, and the login with the new password."""
    audit = Audit(page, screenshot)
    page.goto("/login/")
    page.get_by_role("link", name="パスワードをお忘れの方").click()
    audit.check("password-reset")
    assert_labelled(page, ["メールアドレス"])
    button(page, "再設定用のリンクを送信する").click()
    audit.check("password-reset", "password-reset-errors")
    assert_error_announced(page, "メールアドレス", "このフィールドは必須です。")
    labelled(page, "メールアドレス").fill(customer.email)
    button(page, "再設定用のリンクを送信する").click()
    audit.check("password-reset-sent")
    expect(page.get_by_role("status")).to_contain_text("パスワード再設定用のリンクをお送りしました")

    link = password_reset_link(customer.email)
    page.goto(link)
    audit.check("password-reset-confirm")
    assert_labelled(page, ["パスワード", "パスワード（確認）"])
    labelled(page, "パスワード").fill("12345678")
    labelled(page, "パスワード（確認）").fill("12345678")
    button(page, "パスワードを設定する").click()
    audit.check("password-reset-confirm", "password-reset-confirm-errors")
    assert_error_announced(page, "パスワード", "このパスワードは短すぎます。")
    labelled(page, "パスワード").fill(ENROL_PASSWORD)
    labelled(page, "パスワード（確認）").fill(ENROL_PASSWORD)
    button(page, "パスワードを設定する").click()
    audit.check("password-reset-done")

    page.goto(link)
    audit.check("password-reset-invalid")
    page.goto("/login/")
    labelled(page, "ユーザーID").fill(customer.username)
    labelled(page, "パスワード").fill(ENROL_PASSWORD)
    button(page, "ログイン").click()
    assert_screen(page, "menu")
    audit.assert_clean()


# --- customer: screens 1–10 -----------------------------------------------------------------------------


def test_customer_screens(page: Page, customer, screenshot):
    audit = Audit(page, screenshot)
    # An application approved through the real services, for 詳細 (approved) and ID通知内容.
    approved = submitted_application(
        contract=customer.contract,
        created_by=customer,
        methods=("interactive", "netnaccs"),
        identifiers=("K7Q", ""),
    )
    application_take(application=approved, actor=staff_in("reviewer"))
    application_approve(
        application=approved, actor=staff_in("approver"), start_date=approved.desired_start_date
    )
    approved.refresh_from_db()
    assert approved.status == ApplicationStatus.APPROVED

    # 1 login: labels; empty submit → the errors are announced with their fields
    page.goto("/login/")
    audit.check("login")
    assert_labelled(page, ["ユーザーID", "パスワード"])
    button(page, "ログイン").click()
    audit.check("login", "login-errors")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_error_announced(page, "ユーザーID", "このフィールドは必須です。")
    assert_error_announced(page, "パスワード", "このフィールドは必須です。")

    labelled(page, "ユーザーID").fill(customer.username)
    labelled(page, "パスワード").fill(PASSWORD)
    button(page, "ログイン").click()
    audit.check("menu")

    link(page, "通関士IDの追加").click()
    audit.check("guidance")

    # 4 applicant: labels; errors announced
    button(page, "通関士IDを追加する").click()
    audit.check("applicant")
    assert_labelled(page, ["氏名", "部署", "電話番号", "メールアドレス"])
    labelled(page, "氏名").fill("")
    labelled(page, "メールアドレス").fill("not-an-address")
    button(page, "通関士用利用者IDの入力へ進む").click()
    audit.check("applicant", "applicant-errors")
    assert_error_announced(page, "氏名", "このフィールドは必須です。")
    assert_error_announced(page, "メールアドレス", "メールアドレスの形式が正しくありません")
    assert_no_error_marked(page, "部署")
    labelled(page, "氏名").fill("山田 太郎")
    labelled(page, "メールアドレス").fill("taro@example.com")
    button(page, "通関士用利用者IDの入力へ進む").click()

    # 5 add-ids: empty, with field errors, with items
    audit.check("add-ids", "add-ids-empty")
    assert_labelled(page, ["利用開始希望日", "処理方式", "希望識別番号", "通関士氏名"])
    # the help text of 希望識別番号 is tied to it as well
    help_state = labelled(page, "希望識別番号").evaluate(DESCRIPTION_JS)
    assert "空欄の場合はNACCSセンターが払い出します" in help_state["description"], help_state
    button(page, "設定する").click()
    audit.check("add-ids", "add-ids-errors")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_error_announced(page, "利用開始希望日", "このフィールドは必須です。")
    # the rule checks: 処理方式 missing, 希望識別番号 malformed; each error is described with its field, and
    # 希望識別番号 keeps its help text in the description next to the error
    start = rules.earliest_start_date(clock.today())
    labelled(page, "利用開始希望日").fill(start.isoformat())
    labelled(page, "希望識別番号").fill("!!")
    button(page, "設定する").click()
    assert_screen(page, "add-ids")
    invalid = page.locator("main [aria-invalid=true]")
    expect(invalid.first).to_be_visible()
    invalid_ids = [invalid.nth(index).get_attribute("id") for index in range(invalid.count())]
    assert {"id_processing_method", "id_desired_identifier"} <= set(invalid_ids), invalid_ids
    identifier_state = labelled(page, "希望識別番号").evaluate(DESCRIPTION_JS)
    assert identifier_state["describedby"] == [
        "id_desired_identifier_helptext",
        "id_desired_identifier_error",
    ]
    for index in range(invalid.count()):
        control = invalid.nth(index)
        state = control.evaluate(DESCRIPTION_JS)
        feedback = page.locator(f"#div_{control.get_attribute('id')} .invalid-feedback").inner_text().strip()
        assert feedback and feedback in state["description"], state
    audit.check("add-ids", "add-ids-method-errors")

    labelled(page, "希望識別番号").fill("")
    labelled(page, "処理方式").select_option(label="インタラクティブ処理方式")
    labelled(page, "通関士氏名").fill("通関 一郎")
    button(page, "設定する").click()
    assert_screen(page, "add-ids")
    expect(page.locator("#application-items tr[data-item]")).to_have_count(1)
    audit.check("add-ids", "add-ids-items")

    button(page, "申込内容確認へ進む").click()
    audit.check("confirm")
    button(page, "申込内容を登録する").click()
    audit.check("complete")
    number = page.locator('[data-field="reception_number"]').inner_text().strip()

    # 8 list, 9 detail (submitted, then approved), 10 ID notice
    link(page, "メニューに戻る").click()
    assert_screen(page, "menu")
    link(page, "申込状況一覧").click()
    audit.check("application-list")
    link(page, f"{number}の詳細").click()
    audit.check("application-detail", "application-detail-submitted")
    # 取下げ asks first (withdraw-confirm); the customer changes their mind
    page.get_by_role("link", name="申込を取り下げる").click()
    audit.check("withdraw-confirm")
    page.get_by_role("link", name="取り下げない（詳細に戻る）").click()
    assert_screen(page, "application-detail")
    link(page, "戻る").click()
    assert_screen(page, "application-list")
    link(page, f"{approved.reception_number}の詳細").click()
    audit.check("application-detail", "application-detail-approved")
    link(page, "ID通知内容").click()
    audit.check("id-notice")

    assert len(audit.screens) == 17
    audit.assert_clean()


def test_id_notice_pdf_unavailable_screen(page: Page, customer, screenshot, monkeypatch):
    """「PDFで保存」 on a server without WeasyPrint (its import fails, as without Pango): the page that says so, and the
    way back to the notice with its link."""
    audit = Audit(page, screenshot)
    approved = submitted_application(contract=customer.contract, created_by=customer)
    application_take(application=approved, actor=staff_in("reviewer"))
    application_approve(
        application=approved, actor=staff_in("approver"), start_date=approved.desired_start_date
    )
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` raises ImportError

    log_in(page, customer.username, PASSWORD)
    page.goto(f"/applications/{approved.pk}/id-notice/")
    audit.check("id-notice")
    page.get_by_role("link", name="PDFで保存").click()
    audit.check("id-notice-pdf-unavailable")
    expect(page.locator("main")).to_contain_text("このサーバーでは、ID通知内容のPDFを作成できません。")
    page.get_by_role("link", name="ID通知内容に戻る").click()
    assert_screen(page, "id-notice")
    audit.assert_clean()


def test_draft_screens(page: Page, customer, screenshot):
    """The menu with a draft (and the day it will be deleted), the guidance in the guide's structure, the question
    「この下書きを削除しますか？」 and the menu after the deletion."""
    audit = Audit(page, screenshot)
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=2)
    log_in(page, customer.username, PASSWORD)
    audit.check("menu", "menu-with-draft")
    expect(page.locator('[data-field="draft_deletion_date"]')).to_contain_text("に削除されます。")
    link(page, "通関士IDの追加").click()
    audit.check("guidance")
    # the flow's steps are text, not buttons: the screen's only button is 通関士IDを追加する
    expect(page.locator("main").get_by_role("button")).to_have_count(1)
    expect(page.locator("#flow li")).to_have_count(7)
    page.locator("#flow").get_by_role("link", name="３．通関士証票番号の登録").click()
    expect(page.locator("#part-3")).to_be_in_viewport()
    page.go_back()
    button(page, "通関士IDを追加する").click()
    assert_screen(page, "applicant")
    link(page, "キャンセル").click()
    audit.check("discard")
    button(page, "下書きを削除する").click()
    audit.check("menu", "menu-after-discard")
    assert not Application.objects.filter(pk=draft.pk).exists()
    audit.assert_clean()


# --- the NACCS centre's staff ------------------------------------------------------------------------------


def test_staff_screens(page: Page, customer, screenshot):
    audit = Audit(page, screenshot)
    approver = staff_with_device("approver", email="approver@nacc.example")
    application = submitted_application(contract=customer.contract, created_by=customer)

    page.goto("/staff/login/")
    audit.check("staff-login")
    assert_labelled(page, ["ユーザーID", "パスワード", "確認コード（認証アプリの6桁）"])
    button(page, "ログイン").click()
    audit.check("staff-login", "staff-login-errors")
    assert_error_announced(page, "ユーザーID", "このフィールドは必須です。")
    assert_error_announced(page, "確認コード（認証アプリの6桁）", "このフィールドは必須です。")
    labelled(page, "ユーザーID").fill(approver.username)
    labelled(page, "パスワード").fill(PASSWORD)
    labelled(page, "確認コード（認証アプリの6桁）").fill(totp_code(approver))
    button(page, "ログイン").click()

    audit.check("staff-queue")
    assert_labelled(
        page,
        [
            "状態",
            "申込の種類",
            "処理方式",
            "並び順",
            "検索（申込受付番号・利用者コード・会社名・事業所名）",
            "回答予定日超過のみ",
            "自分の担当のみ",
            f"{application.reception_number}を選択",
        ],
    )
    page.get_by_role("link", name=application.reception_number).click()
    audit.check("staff-application", "staff-application-submitted")
    assert_labelled(
        page, ["通知内容（お客様に表示されます）", "新しい担当者", "メモ（スタッフだけに表示されます）"]
    )

    button(page, "担当する").click()
    audit.check("staff-application", "staff-application-under-review")
    assert_labelled(
        page,
        [
            "通知内容（お客様に表示されます）",
            "利用開始日",
            "不受理理由（お客様に表示されます）",
            "新しい担当者",
            "メモ（スタッフだけに表示されます）",
        ],
    )
    # 不受理 without a reason: the error is announced with the field
    button(page, "不受理にする").click()
    audit.check("staff-application", "staff-application-reject-errors")
    assert_error_announced(page, "不受理理由（お客様に表示されます）", "このフィールドは必須です。")

    # メモを追加, and its error
    button(page, "メモを追加").click()
    audit.check("staff-application", "staff-application-note-errors")
    assert_error_announced(page, "メモ（スタッフだけに表示されます）", "このフィールドは必須です。")
    labelled(page, "メモ（スタッフだけに表示されます）").fill("電話で確認済み")
    button(page, "メモを追加").click()
    expect(page.locator("[data-internal-note]")).to_have_count(1)

    # approval in two steps, a start date beyond the customer's window: the confirmation with its warnings
    labelled(page, "利用開始日").fill(
        business_calendar.business_day_on_or_after(
            business_calendar.add_months(application.desired_start_date, 4)
        ).isoformat()
    )
    button(page, "承認内容を確認する").click()
    audit.check("staff-approve-confirm")
    expect(page.locator("[data-approval-warning]")).to_have_count(2)
    button(page, "承認する（IDを払い出す）").click()
    audit.check("staff-application", "staff-application-approved")
    expect(page.locator('[data-field="status"]')).to_have_text("審査終了")
    assert_labelled(
        page,
        [
            "通知内容（お客様に表示されます）",
            "変更後の利用開始日",
            "変更の理由（監査ログに記録されます）",
            "メモ（スタッフだけに表示されます）",
        ],
    )
    # 利用開始日を変更する without a reason: the error is announced with the field
    button(page, "利用開始日を変更する").click()
    audit.check("staff-application", "staff-application-start-date-errors")
    assert_error_announced(page, "変更の理由（監査ログに記録されます）", "このフィールドは必須です。")

    # the queue with its counts, the approvers' reassign form and bulk take's results
    second = submitted_application(contract=customer.contract, created_by=customer)
    page.goto("/staff/")
    page.locator(f'input[name="applications"][value="{second.pk}"]').check()
    button(page, "選択した申込を担当する").click()
    audit.check("staff-bulk-take")
    expect(page.locator('[data-bulk-result="taken"]')).to_have_count(1)
    page.goto(f"/staff/applications/{second.pk}/")
    audit.check("staff-application", "staff-application-held")
    # 担当者を変更 with nobody chosen: the error is announced with the field
    button(page, "担当者を変更").click()
    audit.check("staff-application", "staff-application-reassign-errors")
    assert_error_announced(page, "新しい担当者", "このフィールドは必須です。")

    # Staff accounts (approvers): the list with its form, the form's errors, a new account (told where its
    # enrolment link went), the link reissued.
    page.get_by_role("link", name="スタッフアカウント").click()
    audit.check("staff-accounts")
    assert_labelled(page, ["ユーザーID", "氏名", "メールアドレス", "役割"])
    button(page, "追加する").click()
    audit.check("staff-accounts", "staff-accounts-errors")
    assert_error_announced(page, "ユーザーID", "このフィールドは必須です。")
    labelled(page, "ユーザーID").fill("tanaka")
    labelled(page, "氏名").fill("田中 一郎")
    labelled(page, "メールアドレス").fill("tanaka@naccs.example")
    labelled(page, "役割").select_option(label="審査担当者")
    button(page, "追加する").click()
    audit.check("staff-account")
    expect(page.get_by_role("status")).to_contain_text("tanaka@naccs.example")
    button(page, "再発行する").click()
    audit.check("staff-account", "staff-account-link-reissued")

    # The new staff member's side: the enrolment screen of the e-mailed link, its errors, its end, and the
    # used link.
    link = enrolment_link("tanaka@naccs.example")
    page.goto(link)
    audit.check("staff-enrol")
    assert_labelled(page, ["パスワード", "パスワード（確認）", "確認コード（認証アプリの6桁）"])
    expect(page.locator('img[data-field="qr-code"]')).to_be_visible()
    button(page, "登録する").click()
    audit.check("staff-enrol", "staff-enrol-errors")
    assert_error_announced(page, "パスワード", "このフィールドは必須です。")
    assert_error_announced(page, "確認コード（認証アプリの6桁）", "このフィールドは必須です。")
    secret = "".join(page.locator('[data-field="totp-secret"]').inner_text().split())
    labelled(page, "パスワード").fill(ENROL_PASSWORD)
    labelled(page, "パスワード（確認）").fill(ENROL_PASSWORD)
    labelled(page, "確認コード（認証アプリの6桁）").fill(code_for(base64.b32decode(secret)))
    button(page, "登録する").click()
    audit.check("staff-enrol-complete")
    page.goto(link)
    audit.check("staff-enrol-invalid")

    assert len(audit.screens) == 21
    audit.assert_clean()


def test_staff_dashboard_screen(page: Page, clock_at_frozen, screenshot):
    """業務状況 with some weeks of work behind it: the SVG chart is an image named by its title, the same figures
    are a table."""
    audit = Audit(page, screenshot)
    reviewer = staff_with_device("reviewer", email="reviewer@nacc.example")
    approver = staff_with_device("approver", email="approver@nacc.example")
    for days_ago, hours, decide in [
        (27, 5, "approve"),
        (20, 30, "approve"),
        (15, 2, "reject"),
        (9, 4, "approve"),
        (8, 26, "approve"),
        (6, 3, "approve"),
        (2, 1, "reject"),
        (2, None, None),
        (1, None, None),
    ]:
        clock_at_frozen.move_to(FROZEN_AT - datetime.timedelta(days=days_ago))
        application = submitted_application()
        if decide:
            application = application_take(application=application, actor=reviewer)
            clock_at_frozen.shift(datetime.timedelta(hours=hours))
            if decide == "approve":
                application_approve(application=application, actor=approver)
            else:
                application_reject(application=application, actor=reviewer, reason="書類不備")
    clock_at_frozen.move_to(FROZEN_AT)

    staff_log_in(page, reviewer, PASSWORD)
    page.get_by_role("navigation", name="スタッフメニュー").get_by_role("link", name="業務状況").click()
    audit.check("staff-dashboard")
    expect(page.get_by_role("img", name="営業日ごとの受付件数と決定件数")).to_be_visible()
    expect(page.get_by_role("table", name="営業日ごとの件数").locator("tbody tr")).to_have_count(20)
    audit.assert_clean()


# --- the UTB gateway ----------------------------------------------------------------------------------------


def test_utb_screens(page: Page, clock_at_frozen, screenshot):
    audit = Audit(page, screenshot)
    naccs_id = ready_id()
    user_id = naccs_id.naccs_user_id

    page.goto("/utb/login/")
    audit.check("utb-login")
    assert_labelled(page, ["利用者ID", "パスワード"])
    button(page, "ログイン").click()
    audit.check("utb-login", "utb-login-errors")
    assert_error_announced(page, "利用者ID", "このフィールドは必須です。")
    labelled(page, "利用者ID").fill(user_id)
    labelled(page, "パスワード").fill(READY_PASSWORD)
    button(page, "ログイン").click()
    audit.check("utb-menu")

    page.get_by_role("link", name="UTB 通関士証票番号登録").click()
    audit.check("utb")
    assert_labelled(page, ["利用者ID", "通関士証票番号"])
    # like the package software, UTB answers a missing input with a result code, announced as a status
    button(page, "送信").click()
    audit.check("utb", "utb-error-result")
    expect(page.get_by_role("status")).to_contain_text("S0001")
    labelled(page, "利用者ID").fill(user_id)
    labelled(page, "通関士証票番号").fill("29-10")
    button(page, "送信").click()
    assert_screen(page, "utb")
    expect(page.locator("#utb-result [data-result-code]")).to_have_text("00000")
    audit.check("utb", "utb-result")

    page.get_by_role("link", name="UTB01", exact=True).click()
    audit.check("utb01")

    page.get_by_role("link", name="パスワード変更").first.click()
    audit.check("utb-password")
    assert_labelled(page, ["現在のパスワード", "新しいパスワード", "新しいパスワード（確認）"])
    labelled(page, "現在のパスワード").fill(READY_PASSWORD)
    labelled(page, "新しいパスワード").fill("ABCDEFG")
    labelled(page, "新しいパスワード（確認）").fill("ABCDEFG")
    button(page, "変更する").click()
    audit.check("utb-password", "utb-password-errors")
    assert_error_announced(page, "新しいパスワード", "両方含めてください")

    assert len(audit.screens) == 9
    audit.assert_clean()


# --- keyboard only -------------------------------------------------------------------------------------------

MAX_TABS = 60


def tab_to(page: Page, target, *, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab) until `target` has the focus; returns how many presses it took."""
    key = "Shift+Tab" if backwards else "Tab"
    handle = target.element_handle()
    for presses in range(MAX_TABS + 1):
        if page.evaluate("el => document.activeElement === el", handle):
            return presses
        page.keyboard.press(key)
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{MAX_TABS} × {key} never reached the target; focus is on {focused}")


def type_date(page: Page, control, date) -> None:
    """Type `date` into an <input type=date> with the keyboard. Chromium lays the parts out in the browser's own
    locale (年/月/日 or 月/日/年, whatever the page's language), so each order is tried until the value is right:
    Tab enters the input on its first part; two digits of a month or day move on to the next part by themselves,
    the year does not (ArrowRight). A later try overwrites every part of the earlier one."""
    parts = {"y": f"{date.year:04d}", "m": f"{date.month:02d}", "d": f"{date.day:02d}"}
    for order in ("ymd", "mdy", "dmy"):
        for _ in range(
            4
        ):  # leave the input (Shift+Tab goes back part by part), to re-enter on its first part
            if not control.evaluate("el => document.activeElement === el"):
                break
            page.keyboard.press("Shift+Tab")
        tab_to(page, control)
        for index, part in enumerate(order):
            page.keyboard.type(parts[part])
            if part == "y" and index < 2:
                page.keyboard.press("ArrowRight")
        if control.input_value() == date.isoformat():
            return
    raise AssertionError(f"could not type {date} into the date input (value {control.input_value()!r})")


def assert_focus_visible(page: Page) -> None:
    """The focused control (reached with the keyboard) draws an outline or a focus ring (box-shadow)."""
    style = page.evaluate(
        """() => { const el = document.activeElement, s = getComputedStyle(el);
                   return {focusVisible: el.matches(':focus-visible'), outline: s.outlineStyle,
                           outlineWidth: s.outlineWidth, shadow: s.boxShadow}; }"""
    )
    assert style["focusVisible"], style
    has_outline = style["outline"] != "none" and style["outlineWidth"] != "0px"
    assert has_outline or style["shadow"] != "none", f"no visible focus indicator: {style}"


def test_keyboard_only_filing_journey(page: Page, customer, screenshot):
    keyboard = page.keyboard
    start = rules.earliest_start_date(clock.today())

    def press_button(name: str, key: str = "Enter") -> None:
        tab_to(page, button(page, name))
        assert_focus_visible(page)
        keyboard.press(key)

    def follow_link(name: str) -> None:
        tab_to(page, link(page, name))
        assert_focus_visible(page)
        keyboard.press("Enter")

    page.goto("/login/")
    assert_screen(page, "login")
    tab_to(page, labelled(page, "ユーザーID"))
    keyboard.type(customer.username)
    tab_to(page, labelled(page, "パスワード"))
    keyboard.type(PASSWORD)
    press_button("ログイン")
    assert_screen(page, "menu")

    follow_link("通関士IDの追加")
    assert_screen(page, "guidance")
    press_button("通関士IDを追加する", key="Space")
    assert_screen(page, "applicant")
    expect(labelled(page, "氏名")).to_have_value(customer.full_name)
    press_button("通関士用利用者IDの入力へ進む")
    assert_screen(page, "add-ids")

    type_date(page, labelled(page, "利用開始希望日"), start)
    tab_to(page, labelled(page, "処理方式"))
    keyboard.press("ArrowDown")
    expect(labelled(page, "処理方式")).not_to_have_value("")
    tab_to(page, labelled(page, "希望識別番号"))
    keyboard.type("b2c")
    tab_to(page, labelled(page, "通関士氏名"))
    keyboard.type("通関 一郎")
    screenshot(page, "keyboard-add-ids", prefix="a11y-")
    press_button("設定する")
    assert_screen(page, "add-ids")
    items = page.locator("#application-items tr[data-item]")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("B2C")

    # after 設定する the page is at #application-info; 申込内容確認へ進む is the last button (キャンセル, a link, follows
    # it): reach it backwards
    tab_to(page, button(page, "申込内容確認へ進む"), backwards=True)
    assert_focus_visible(page)
    keyboard.press("Enter")
    assert_screen(page, "confirm")
    press_button("申込内容を登録する")
    assert_screen(page, "complete")
    screenshot(page, "keyboard-complete", prefix="a11y-")
    shown = page.locator('[data-field="reception_number"]').inner_text().strip()
    assert RECEPTION_NUMBER.fullmatch(shown), shown
    draft = Application.objects.get(contract=customer.contract)
    assert draft.status == ApplicationStatus.SUBMITTED
    assert draft.reception_number == shown


# --- 通関士IDの削除 (SPEC §9): select-ids (empty, with errors) and the removal's confirm ------------------------


def test_removal_screens(page: Page, customer, screenshot):
    from tests.factories import NaccsUserIdFactory

    audit = Audit(page, screenshot)
    user_code = customer.contract.user_code
    NaccsUserIdFactory(contract=customer.contract, identifier="A0A", broker_name="通関 一郎")
    NaccsUserIdFactory(contract=customer.contract, identifier="B0B", broker_name="通関 二郎")
    log_in(page, customer.username, PASSWORD)
    link(page, "通関士IDの削除").click()
    audit.check("guidance", "guidance-remove")
    button(page, "通関士IDを削除する").click()
    audit.check("applicant", "applicant-remove")
    button(page, "対象IDの選択へ進む").click()
    audit.check("select-ids")
    assert_labelled(page, ["利用終了希望日", f"{user_code}A0A", f"{user_code}B0B"])
    button(page, "申込内容確認へ進む").click()
    audit.check("select-ids", "select-ids-errors")
    assert_error_announced(page, "利用終了希望日", "利用終了希望日を入力してください。")
    labelled(page, "利用終了希望日").fill(rules.earliest_start_date(clock.today()).isoformat())
    button(page, "申込内容確認へ進む").click()
    audit.check("select-ids", "select-ids-no-id")
    expect(page.locator("#targets-error")).to_contain_text("削除する通関士IDを1件以上選択してください。")
    page.get_by_label(f"{user_code}A0A", exact=True).check()
    button(page, "申込内容確認へ進む").click()
    audit.check("confirm", "confirm-remove")
    button(page, "申込内容を登録する").click()
    audit.check("complete", "complete-remove")
    audit.assert_clean()


# --- パスワードの初期化 (SPEC §9): guidance, select-ids (with errors), confirm, complete, the staff pages, the result


def test_reset_screens(page: Page, customer, screenshot, settings):
    settings.NSS_FOUR_EYES = False
    audit = Audit(page, screenshot)
    user_code = customer.contract.user_code
    ready_id(customer.contract, identifier="A0A", broker_name="通関 一郎")
    ready_id(customer.contract, identifier="G01", is_customs_broker=False)
    log_in(page, customer.username, PASSWORD)
    link(page, "パスワードの初期化").click()
    audit.check("guidance", "guidance-reset")
    button(page, "パスワードを初期化する").click()
    audit.check("applicant", "applicant-reset")
    button(page, "対象IDの選択へ進む").click()
    audit.check("select-ids", "select-ids-reset")
    assert_labelled(page, [f"{user_code}A0A", f"{user_code}G01"])
    button(page, "申込内容確認へ進む").click()
    audit.check("select-ids", "select-ids-reset-no-id")
    expect(page.locator("#targets-error")).to_contain_text(
        "パスワードを初期化する利用者IDを1件以上選択してください。"
    )
    page.get_by_label(f"{user_code}G01", exact=True).check()
    button(page, "申込内容確認へ進む").click()
    audit.check("confirm", "confirm-reset")
    button(page, "申込内容を登録する").click()
    audit.check("complete", "complete-reset")
    number = page.locator('[data-field="reception_number"]').inner_text().strip()

    # the centre: the application, 承認内容の確認 (no date), approved
    application = Application.objects.get(reception_number=number)
    application_take(application=application, actor=staff_in("reviewer"))
    context = page.context
    context.clear_cookies()
    staff_log_in(page, staff_with_device("approver", email="approver@nacc.example"), PASSWORD)
    page.goto(f"/staff/applications/{application.pk}/")
    audit.check("staff-application", "staff-application-reset")
    button(page, "承認内容を確認する").click()
    audit.check("staff-approve-confirm", "staff-approve-confirm-reset")
    button(page, "承認する（パスワードを初期化する）").click()
    audit.check("staff-application", "staff-application-reset-approved")

    # the customer: 詳細 and ID通知内容 with the new initial password
    context.clear_cookies()
    log_in(page, customer.username, PASSWORD)
    page.goto(f"/applications/{application.pk}/")
    audit.check("application-detail", "application-detail-reset")
    link(page, "ID通知内容").click()
    audit.check("id-notice", "id-notice-reset")
    expect(
        page.locator(f'tr[data-issued-id="{user_code}G01"] [data-field="initial_password"]')
    ).to_have_count(1)
    audit.assert_clean()
