"""SPEC §6 in headless Chromium: an application approved through the real services issues a 通関士ID; on its start
date the broker logs in to the UTB gateway with the initial password, is sent to the password change, changes it,
registers the guide's sample ２９－１０ with UTB and reads it back with UTB01."""

import datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect

from applications import clock, crypto
from applications.models import ApplicationStatus, NaccsUserId
from reviews.services import application_approve, application_take
from tests.browser.test_filing_journey import assert_screen, button, field
from tests.factories import FROZEN_AT, ContractFactory, CustomerFactory, staff_in, submitted_application
from utb_gateway.models import LicenceRegistration, UtbAttempt

# As in the other browser tests: the live server runs in another thread, so the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_PASSWORD = "NEW9PASS"


def test_the_broker_changes_the_initial_password_and_registers_the_licence_number(page: Page, screenshot):
    # --- the NACCS centre files and approves (FROZEN_AT: Monday 2026-11-16 10:00 JST), through the real services
    # time_machine patches the whole process, so the live server's thread sees the same (ticking) clock.
    with time_machine.travel(FROZEN_AT, tick=True) as traveller:
        customer = CustomerFactory(contract=ContractFactory(methods=["interactive", "netnaccs"]))
        application = submitted_application(contract=customer.contract, created_by=customer)
        application_take(application=application, actor=staff_in("reviewer"))
        start_date = application.desired_start_date
        (issued,) = application_approve(
            application=application, actor=staff_in("approver"), start_date=start_date
        )
        application.refresh_from_db()
        assert application.status == ApplicationStatus.APPROVED
        assert issued.start_date == start_date > clock.today()
        assert issued.password_changed_at is None
        initial_password = crypto.decrypt(issued.initial_password_encrypted)
        user_id = issued.naccs_user_id

        # --- before the start date the ID cannot log in
        page.goto("/utb/login/")
        assert_screen(page, "utb-login")
        field(page, "利用者ID").fill(user_id)
        field(page, "パスワード").fill(initial_password)
        button(page, "ログイン").click()
        assert_screen(page, "utb-login")
        expect(page.get_by_role("alert")).to_contain_text("利用開始前・廃止済み")

        # --- the start date has come: 10:00 JST, inside UTB hours
        traveller.move_to(datetime.datetime.combine(start_date, datetime.time(10, 0), tzinfo=clock.JST))
        assert clock.today() == start_date

        # NACCS login with the issued ID and its initial password → straight to the password change
        page.goto("/utb/login/")
        assert_screen(page, "utb-login")
        field(page, "利用者ID").fill(user_id)
        field(page, "パスワード").fill(initial_password)
        screenshot(page, "utb-login", prefix="utb-")
        button(page, "ログイン").click()
        assert_screen(page, "utb-password")
        expect(page.locator("main .alert-warning")).to_contain_text("初期パスワードのままです")
        expect(page.locator('[data-field="naccs_user_id"]')).to_have_text(user_id)
        screenshot(page, "utb-password-temporary", prefix="utb-")

        # the NACCS rule refuses a password without a digit
        field(page, "現在のパスワード").fill(initial_password)
        field(page, "新しいパスワード").fill("ABCDEFG")
        field(page, "新しいパスワード（確認）").fill("ABCDEFG")
        button(page, "変更する").click()
        assert_screen(page, "utb-password")
        expect(page.locator("#div_id_new_password .invalid-feedback")).to_contain_text("両方含めてください")

        field(page, "現在のパスワード").fill(initial_password)
        field(page, "新しいパスワード").fill(NEW_PASSWORD)
        field(page, "新しいパスワード（確認）").fill(NEW_PASSWORD)
        button(page, "変更する").click()
        assert_screen(page, "utb-menu")
        expect(page.get_by_role("status")).to_contain_text("パスワードを変更しました。")
        screenshot(page, "utb-menu", prefix="utb-")

        # UTB: the guide's sample, typed full-width, for the ID itself
        page.get_by_role("link", name="UTB 通関士証票番号登録").click()
        assert_screen(page, "utb")
        field(page, "利用者ID").fill(user_id)
        field(page, "通関士証票番号").fill("２９－１０")
        screenshot(page, "utb-input", prefix="utb-")
        button(page, "送信").click()
        assert_screen(page, "utb")
        expect(page.locator("#utb-result [data-result-code]")).to_have_text("00000")
        expect(page.locator("#utb-result")).to_contain_text("正常終了")
        expect(page.locator("#utb-registered")).to_have_text(
            f"{user_id} に通関士証票番号「29-10」を登録しました。"
        )
        screenshot(page, "utb-registered", prefix="utb-")

        # UTB01: the number, and when it was registered
        page.get_by_role("link", name="UTB01", exact=True).click()
        assert_screen(page, "utb01")
        expect(page.locator("#utb-result [data-result-code]")).to_have_text("00000")
        row = page.locator(f'#utb01-items tr[data-user-id="{user_id}"]')
        expect(row).to_have_count(1)
        expect(row.locator('[data-field="licence_number"]')).to_have_text("29-10")
        expect(row.locator("td").nth(3)).to_contain_text(start_date.strftime("%Y/%m/%d"))
        screenshot(page, "utb01", prefix="utb-")

    issued = NaccsUserId.objects.get(pk=issued.pk)
    assert issued.password_changed_at is not None
    # The password change destroyed the initial one: the ID notice says 「変更済み」 and has no value (SPEC §10).
    assert issued.initial_password_encrypted == ""
    registration = LicenceRegistration.objects.get(naccs_user_id=issued, is_current=True)
    assert (registration.licence_number, registration.registered_by) == ("29-10", issued)
    attempt = UtbAttempt.objects.get()
    assert (attempt.raw_licence_number, attempt.normalised_licence_number, attempt.result_code) == (
        "２９－１０",
        "29-10",
        "00000",
    )
