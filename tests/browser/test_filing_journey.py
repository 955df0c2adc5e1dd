"""Screens 1–7 of SPEC §3 in headless Chromium: the helpers every browser journey uses, and a double click on
申込内容を登録する. The whole filing walk, with its detours, is the first part of test_full_journey.py."""

import re
import threading
import time

import pytest
from playwright.sync_api import Page, expect

from applications import clock, dates, rules, services
from applications.models import Application, ApplicationItem, ApplicationStatus, ReceptionNumberAllocation
from applications.reception_numbers import is_valid_reception_number
from tests.factories import PASSWORD, ContractFactory, CustomerFactory, DraftFactory

# transaction=True: the live server runs in another thread, so the data must be committed to be seen.
# serialized_rollback=True: the flush after each transactional test wipes the data migrations' reference
# data (processing methods, staff groups); it is restored from the serialised test database before each
# test, so these tests neither depend on nor spoil what the migrations loaded (tests/factories.py also
# re-creates the methods).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECEPTION_NUMBER = re.compile(r"^[0-9]{7}[A-Z]$")


def assert_screen(page: Page, name: str) -> None:
    """Wait until `<main data-screen>` is `name` (navigation done), then read it once more and compare."""
    main = page.locator("main")
    expect(main).to_have_attribute("data-screen", name)
    assert main.get_attribute("data-screen") == name


def field(page: Page, label: str):
    """The input whose <label> is `label`, plus the "*" crispy-forms appends to required ones (a regex is
    matched against the label's raw text, whitespace included). Anchored, because the section labelled by its
    heading "② 利用開始希望日・追加する識別番号" would match a plain substring search for 利用開始希望日."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def link(page: Page, name: str):
    """A link of the screen itself (<main>), e.g. a menu entry drawn as a button: going to a screen posts
    nothing, so it is a link (the header's navigation has links of the same names)."""
    return page.locator("main").get_by_role("link", name=name, exact=True)


def items(page: Page):
    return page.locator("#application-items tr[data-item]")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login/")
    assert_screen(page, "login")
    field(page, "ユーザーID").fill(username)
    field(page, "パスワード").fill(password)
    button(page, "ログイン").click()
    assert_screen(page, "menu")


def staff_log_in(page: Page, user, password: str) -> None:
    """The staff login with the current code of `user`'s authenticator; lands on the queue."""
    from tests.factories import totp_code

    page.goto("/staff/login/")
    field(page, "ユーザーID").fill(user.username)
    field(page, "パスワード").fill(password)
    field(page, "確認コード（認証アプリの6桁）").fill(totp_code(user))
    button(page, "ログイン").click()
    assert_screen(page, "staff-queue")


@pytest.fixture
def customer():
    return CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))


def test_double_click_on_submit_files_one_application(page: Page, customer, screenshot, monkeypatch):
    """申込内容を登録する clicked twice quickly: the browser sends two POSTs, the server files one.

    Chromium folds a true dblclick into one form submission before anything leaves the page, which would test
    nothing on the server. So the first POST is held in the view for a moment (the live server runs in this
    process) while the button is clicked again: the second POST files the application, the first then finds it
    already filed.
    """
    draft = DraftFactory(
        contract=customer.contract,
        created_by=customer,
        desired_start_date=rules.earliest_start_date(clock.today()),
    )
    real_submit = services.application_submit
    calls = []
    first_done = threading.Event()

    def slow_first_submit(**kwargs):
        first = not calls
        calls.append(kwargs)
        try:
            if first:
                time.sleep(0.5)
            return real_submit(**kwargs)
        finally:
            if first:
                first_done.set()

    monkeypatch.setattr(services, "application_submit", slow_first_submit)

    log_in(page, customer.username, PASSWORD)
    page.goto(f"/applications/drafts/{draft.pk}/confirm/")
    assert_screen(page, "confirm")

    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    # Real mouse clicks at the button: Locator.click would wait for the first navigation to finish first.
    box = button(page, "申込内容を登録する").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    with page.expect_request(lambda request: request.method == "POST"):
        page.mouse.click(x, y)
    page.mouse.click(x, y)
    assert_screen(page, "complete")
    assert first_done.wait(10), "the first POST never finished"
    screenshot(page, "complete", prefix="double-click-")

    assert len(posts) == 2, posts
    assert len(calls) == 2, "both POSTs reached the submit service"
    submitted = Application.objects.filter(contract=customer.contract).exclude(status=ApplicationStatus.DRAFT)
    assert submitted.count() == 1
    assert Application.objects.filter(contract=customer.contract).count() == 1
    assert ReceptionNumberAllocation.objects.count() == 1
    shown = page.locator('[data-field="reception_number"]').inner_text().strip()
    assert shown == submitted.get().reception_number
    assert is_valid_reception_number(shown)


def test_cancel_asks_first_then_discards_the_draft_and_returns_to_the_menu(page: Page, customer, screenshot):
    """キャンセル on a draft screen leads to 「この下書きを削除しますか？」; 削除せずに戻る keeps everything, 下書きを削除する
    deletes the draft with its IDs and lands on the menu with a message. No JavaScript involved."""
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=2)
    deletion_date = rules.draft_deletion_date(last_changed=draft.updated_at)

    log_in(page, customer.username, PASSWORD)
    notice = page.locator('[data-field="draft_deletion_date"]')
    expect(notice).to_contain_text(f"下書きは{dates.format_date(deletion_date)}に削除されます。")
    screenshot(page, "menu-with-draft", prefix="discard-")
    link(page, "通関士IDの追加").click()
    assert_screen(page, "guidance")
    button(page, "通関士IDを追加する").click()
    assert_screen(page, "applicant")
    button(page, "通関士用利用者IDの入力へ進む").click()
    assert_screen(page, "add-ids")
    expect(items(page)).to_have_count(2)

    # キャンセル is a link to the question; backing out keeps the draft
    link(page, "キャンセル").click()
    assert_screen(page, "discard")
    expect(page.locator("h1")).to_have_text("この下書きを削除しますか？")
    expect(items(page)).to_have_count(2)
    screenshot(page, "confirm-discard", prefix="discard-")
    link(page, "削除せずに戻る").click()
    assert_screen(page, "add-ids")
    expect(items(page)).to_have_count(2)
    assert Application.objects.filter(pk=draft.pk).exists()

    # … and confirming deletes it (the same question stays open in a second tab)
    link(page, "キャンセル").click()
    assert_screen(page, "discard")
    second_tab = page.context.new_page()
    second_tab.goto(page.url)
    assert_screen(second_tab, "discard")
    button(page, "下書きを削除する").click()
    assert_screen(page, "menu")
    expect(page.get_by_role("status")).to_contain_text("下書きを削除しました。")
    expect(page.locator('[data-field="draft"]')).to_have_count(0)
    screenshot(page, "menu-after-discard", prefix="discard-")
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert not ApplicationItem.objects.filter(application_id=draft.pk).exists()

    # the second tab's question now finds nothing to delete: the not-found page, with the way to the menu
    button(second_tab, "下書きを削除する").click()
    assert_screen(second_tab, "not-found")
    second_tab.get_by_role("navigation", name="お客様メニュー").get_by_role(
        "link", name="メニュー", exact=True
    ).click()
    assert_screen(second_tab, "menu")
