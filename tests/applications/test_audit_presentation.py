"""The audit trail as staff read it (SPEC §8: 状態: 受付 → 内容確認中, 利用開始日: （未確定） → 2026年12月9日, never
field names): applications/audit.py entry_lines, each value format, keys it does not know, entries written before
today's shape, and the staff pages that show a trail (the application, the contract) with a query count that stays
the same however long the trail grows."""

import ast
import datetime
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from applications import audit, clock
from applications.contract_import import contracts_import
from applications.dates import format_date, format_datetime
from applications.models import ApplicationStatus, Contract
from applications.roles import APPROVER, REVIEWER
from reviews import services as review_services
from tests.factories import (
    ContractFactory,
    approve_on_screens,
    ensure_processing_methods,
    method,
    submitted_application,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

DAY = datetime.date(2026, 12, 9)
# 2026-12-01 15:05 UTC is already 2 December, 00:05, in Japan.
INSTANT = datetime.datetime(2026, 12, 1, 15, 5, tzinfo=datetime.UTC)


def entry(action: str = "", *, changes=None, **details) -> LogEntry:
    """An entry as the table holds it (values already plain JSON), not saved: the formats read nothing else."""
    additional = {"action": action, **details} if action else details
    return LogEntry(changes=changes, additional_data=additional or None)


def texts(lines: list[audit.AuditLine]) -> list[str]:
    return [
        f"{line.label}: {line.old} → {line.new}" if line.is_change else f"{line.label}: {line.value}"
        for line in lines
    ]


def lines_of(log_entry: LogEntry, **kwargs) -> list[str]:
    return texts(audit.entry_lines(log_entry, **kwargs))


# --- each format ---------------------------------------------------------------------------------------------


def test_a_status_change_reads_by_the_status_labels():
    [line] = audit.entry_lines(entry("application_take", changes={"status": ["submitted", "under_review"]}))
    assert line == audit.AuditLine("状態", old="受付", new="内容確認中", is_change=True)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, DAY.isoformat(), "利用開始日: （未確定） → 2026年12月9日"),
        ("", DAY.isoformat(), "利用開始日: （未確定） → 2026年12月9日"),
        ("2026-12-02", DAY.isoformat(), "利用開始日: 2026年12月2日 → 2026年12月9日"),
        ("not a day", DAY.isoformat(), "利用開始日: not a day → 2026年12月9日"),
    ],
)
def test_a_start_date_change_reads_as_japanese_days(old, new, expected):
    log_entry = entry(
        "application_start_date_change", changes={"start_date": [old, new]}, reason="祝日のため"
    )
    assert lines_of(log_entry) == [expected, "理由: 祝日のため"]


def test_an_instant_reads_as_its_day_and_time_in_japan():
    log_entry = entry("staff_account_create", role=REVIEWER, enrolment_link_expires_at=str(INSTANT))
    assert lines_of(log_entry) == [
        "役割: 審査担当者",
        f"登録用リンクの有効期限: {format_datetime(INSTANT)}",
    ]
    assert format_datetime(INSTANT) == "2026年12月2日 00:05"


def test_flags_read_yes_or_no_and_is_active_reads_active_or_stopped():
    assert lines_of(entry("customer_invite", username="tanaka", office_admin=True)) == [
        "ユーザーID: tanaka",
        "事業所の管理者: はい",
    ]
    log_entry = entry("staff_account_update", changes={"role": [None, APPROVER], "is_active": [True, False]})
    assert lines_of(log_entry) == ["役割: — → 承認者", "利用可否: 利用可 → 停止中"]
    log_entry = entry("contract_update", changes={"customer_totp_required": [False, True]})
    assert lines_of(log_entry) == ["お客様のログインに認証アプリを必須にする: いいえ → はい"]


def test_processing_methods_read_by_their_names_and_lists_are_joined(django_assert_num_queries):
    ensure_processing_methods()
    log_entry = entry(
        "contract_update", changes={"processing_methods": [["interactive"], ["interactive", "netnaccs"]]}
    )
    with django_assert_num_queries(1):
        lines = lines_of(log_entry)
    assert lines == ["処理方式: インタラクティブ処理方式 → インタラクティブ処理方式、netNACCS"]
    log_entry = entry("contract_create", user_code="1ANAC", processing_methods=["netnaccs", "retired"])
    assert lines_of(log_entry) == ["利用者コード: 1ANAC", "処理方式: netNACCS、retired"]


def test_issued_ids_are_joined_and_nothing_reads_as_a_dash():
    log_entry = entry("application_approve", issued=["1ANACA01", "1ANACA02"])
    assert lines_of(log_entry) == ["払出し: 1ANACA01、1ANACA02"]
    log_entry = entry("contract_update", changes={"department": ["", "通関部"], "address": ["港区", None]})
    assert lines_of(log_entry) == ["部署: — → 通関部", "所在地: 港区 → —"]
    ensure_processing_methods()
    log_entry = entry("contract_import", changes={"processing_methods": [[], ["interactive"]]})
    assert lines_of(log_entry) == ["処理方式: — → インタラクティブ処理方式"]


def test_the_resend_names_the_kind_of_e_mail_and_its_address():
    log_entry = entry("email_resend", email="application_approved", to="a@example.com", queued=42)
    assert lines_of(log_entry) == [
        "メール: 利用申込確認完了のお知らせ",
        "宛先: a@example.com",
        "再送メールの番号: 42",
    ]


def test_staff_texts_are_shown_as_written():
    assert lines_of(entry("application_reject", reason="書類不備")) == ["理由: 書類不備"]
    assert lines_of(entry("progress_notice_post", text="確認中です")) == ["通知: 確認中です"]
    assert lines_of(entry("internal_note_add", note="電話で確認済み")) == ["メモ: 電話で確認済み"]


def test_a_reassignment_names_both_reviewers():
    log_entry = entry(
        "application_reassign", changes={"reviewer": ["demo-reviewer", "yamada"]}, reason="休暇"
    )
    assert lines_of(log_entry) == ["担当者: demo-reviewer → yamada", "理由: 休暇"]
    assert lines_of(entry("application_release", changes={"reviewer": ["yamada", None]})) == [
        "担当者: yamada → —"
    ]


def test_the_actions_services_record_have_labels():
    for action, label in {
        "application_release": "担当を外す",
        "application_reassign": "担当者の変更",
        "application_start_date_change": "利用開始日の変更",
        "internal_note_add": "メモの追加",
    }.items():
        assert audit.action_label(entry(action)) == label


def test_lines_follow_the_label_order_whatever_order_they_were_recorded_in():
    log_entry = entry(
        "application_approve",
        changes={"start_date": [None, DAY.isoformat()], "status": ["under_review", "approved"]},
        issued=["1ANACA01"],
        desired_start_date="2026-12-02",
    )
    assert lines_of(log_entry) == [
        "状態: 内容確認中 → 審査終了",
        "利用開始希望日: 2026年12月2日",
        "利用開始日: （未確定） → 2026年12月9日",
        "払出し: 1ANACA01",
    ]


def test_the_import_names_each_changed_id_and_account():
    ensure_processing_methods()
    log_entry = entry(
        "contract_import",
        changes={"company_name": [None, "デモ通関株式会社"]},
        contract="created",
        naccs_user_ids_created=["1ANACA0A"],
        naccs_user_ids_updated={
            "1ANACY27": {
                "processing_method": ["interactive", "netnaccs"],
                "is_customs_broker": [True, False],
                "revoked_on": [None, "2027-03-31"],
            }
        },
        accounts_created=["yamada"],
        accounts_updated={"suzuki": {"phone": ["", "03-1234-5678"]}},
    )
    assert lines_of(log_entry) == [
        "契約: 新規登録",
        "会社名: — → デモ通関株式会社",
        "追加した利用者ID: 1ANACA0A",
        "処理方式（1ANACY27）: インタラクティブ処理方式 → netNACCS",
        "通関士ID（1ANACY27）: はい → いいえ",
        "廃止日（1ANACY27）: （未確定） → 2027年3月31日",
        "追加したアカウント: yamada",
        "電話番号（suzuki）: — → 03-1234-5678",
    ]


def test_an_import_that_changed_a_contract_says_so():
    log_entry = entry(
        "contract_import", changes={"company_name": ["デモ通関", "デモ通関株式会社"]}, contract="updated"
    )
    assert lines_of(log_entry) == ["契約: 登録内容の変更", "会社名: デモ通関 → デモ通関株式会社"]


# --- keys it does not know, entries of another shape ---------------------------------------------------------


def test_an_unknown_key_shows_under_its_own_name():
    log_entry = entry(
        "application_bulk_take",
        changes={"priority": [1, 2]},
        batch=["a", "b"],
        flag=False,
        extra={"k": "v"},
    )
    assert lines_of(log_entry) == ["priority: 1 → 2", "batch: a、b", "flag: いいえ", "extra: k: v"]
    assert audit.action_label(entry("application_bulk_take")) == "application_bulk_take"


def test_an_approval_recorded_with_the_desired_date_as_old_start_date_reads_as_today():
    """Before the desired date had a detail of its own, approvals put it where the old start date goes."""
    log_entry = entry(
        "application_approve",
        changes={"status": ["under_review", "approved"], "start_date": ["2026-12-02", DAY.isoformat()]},
        issued=["1ANACA01"],
    )
    assert lines_of(log_entry) == [
        "状態: 内容確認中 → 審査終了",
        "利用開始希望日: 2026年12月2日",
        "利用開始日: （未確定） → 2026年12月9日",
        "払出し: 1ANACA01",
    ]


@pytest.mark.parametrize(
    "log_entry",
    [
        LogEntry(changes=None, additional_data=None),
        LogEntry(changes="", additional_data={"action": "id_notice_view"}),
        LogEntry(changes="not json", additional_data=["not", "an", "object"]),
        LogEntry(changes={"status": "under_review"}, additional_data={"action": ["odd"]}),
        LogEntry(changes={"status": ["a", "b", "c"]}, additional_data={"action": "application_take"}),
    ],
)
def test_an_entry_of_any_shape_shows_without_failing(log_entry):
    lines = audit.entry_lines(log_entry, method_names={})
    assert all(isinstance(line, audit.AuditLine) for line in lines)


def test_changes_kept_as_json_text_still_read():
    log_entry = LogEntry(
        changes='{"status": ["draft", "submitted"]}', additional_data={"action": "application_submit"}
    )
    assert lines_of(log_entry) == ["状態: 作成中 → 受付"]


def test_an_unknown_status_or_role_shows_as_recorded():
    log_entry = entry("x", changes={"status": ["retired_status", "approved"], "role": ["auditor", REVIEWER]})
    assert lines_of(log_entry) == ["状態: retired_status → 審査終了", "役割: auditor → 審査担当者"]


# --- every key the services record has a label ---------------------------------------------------------------

SERVICE_MODULES = ["reviews/services.py", "applications/services.py", "applications/accounts.py"]
NOT_DETAILS = {"actor", "action", "changes"}


def recorded_keys() -> set[str]:
    """The keyword details and the literal `changes` keys of every audit.record / record_access call."""
    keys = set()
    for module in SERVICE_MODULES:
        tree = ast.parse((Path(settings.BASE_DIR) / module).read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in {"record", "record_access"}:
                continue
            for keyword in node.keywords:
                if keyword.arg == "changes" and isinstance(keyword.value, ast.Dict):
                    keys |= {key.value for key in keyword.value.keys if isinstance(key, ast.Constant)}
                elif keyword.arg not in NOT_DETAILS:
                    keys.add(keyword.arg)
    return keys


def test_every_detail_and_field_the_services_record_has_a_label():
    keys = recorded_keys()
    assert {"status", "start_date", "issued", "reason", "role", "is_active", "email"} <= keys
    assert keys - set(audit.FIELD_LABELS) == set()
    assert set(audit.FIELD_LABELS) >= set(review_services.CONTRACT_FIELDS) | {"customer_totp_required"}


def test_every_label_is_translated_when_shown():
    labels = [
        *audit.FIELD_LABELS.values(),
        *audit.ACTION_FIELD_LABELS.values(),
        *audit.ACTION_LABELS.values(),
        *audit.EMAIL_KINDS.values(),
        *audit.CONTRACT_EVENTS.values(),
        audit.PENDING,
    ]
    assert all(isinstance(label, Promise) for label in labels)


def test_in_english_the_labels_and_values_are_english():
    log_entry = entry(
        "application_approve",
        changes={"status": ["under_review", "approved"], "start_date": [None, DAY.isoformat()]},
        desired_start_date=DAY.isoformat(),
    )
    with translation.override("en"):
        lines = lines_of(log_entry)
    assert lines[0] == "Status: Under review → Review completed"
    assert lines[1] == "Desired start date: 9 December 2026"
    assert lines[2].startswith("Start date: ") and lines[2].endswith(" → 9 December 2026")


# --- the pages -----------------------------------------------------------------------------------------------


def application_url(application) -> str:
    return reverse("reviews:application", kwargs={"pk": application.pk})


def trail_items(response, list_id: str = "audit-trail"):
    trail = Page(response).root.by_id(list_id)
    return [li for li in trail.find_all("li") if "data-audit-action" in li.attrs]


def test_the_staff_application_page_reads_the_trail_as_japanese(staff_client, approver_client, reviewer):
    application = submitted_application()
    staff_client.post(reverse("reviews:take", kwargs={"pk": application.pk}))
    response = approve_on_screens(approver_client, application, follow=False)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED

    submit, take, approve = (
        item.text for item in trail_items(staff_client.get(application_url(application)))
    )
    assert "状態: 作成中 → 受付" in submit
    assert "状態: 受付 → 内容確認中" in take
    assert reviewer.username in take
    assert "状態: 内容確認中 → 審査終了" in approve
    assert f"利用開始日: （未確定） → {format_date(application.start_date)}" in approve
    assert f"利用開始希望日: {format_date(application.desired_start_date)}" in approve
    assert "払出し: " in approve
    trail = " ".join((submit, take, approve))
    for raw in ("status", "start_date", "under_review", "submitted", "None", "True", "False", "['"):
        assert raw not in trail
    assert f"{clock.now():%Y}年" in trail  # the time of each entry, as nss_datetime shows it


def test_the_staff_application_page_in_english(staff_client, reviewer, approver):
    application = review_services.application_take(application=submitted_application(), actor=reviewer)
    review_services.application_approve(application=application, actor=approver)
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    approve = trail_items(staff_client.get(application_url(application)))[-1].text
    assert "Status: Under review → Review completed" in approve
    with translation.override("en"):
        assert f"Desired start date: {format_date(application.desired_start_date)}" in approve
        assert f" → {format_date(application.start_date)}" in approve


def test_a_notice_a_rejection_reason_and_a_resend_read_with_their_labels(staff_client, reviewer):
    application = review_services.application_take(application=submitted_application(), actor=reviewer)
    review_services.progress_notice_post(application=application, actor=reviewer, text="書類を確認しています")
    review_services.application_reject(application=application, actor=reviewer, reason="<b>書類不備</b>")

    items = trail_items(staff_client.get(application_url(application)))
    assert "通知: 書類を確認しています" in items[2].text
    assert "理由: <b>書類不備</b>" in items[3].text  # escaped, shown as typed
    assert "状態: 内容確認中 → 不受理" in items[3].text


def test_the_contract_page_reads_its_trail_with_processing_method_names(approver_client, approver):
    ensure_processing_methods()
    contract = ContractFactory(methods=["interactive"])
    review_services.contract_update(
        actor=approver,
        contract=contract,
        company_name=contract.company_name,
        office_name="横浜事業所",
        processing_methods=[method("interactive"), method("netnaccs")],
        customer_totp_required=True,
    )
    response = approver_client.get(reverse("reviews:contract", kwargs={"pk": contract.pk}))
    [update] = trail_items(response, "contract-audit-trail")
    assert "契約の変更" in update.text and approver.username in update.text
    assert f"事業所名: {contract.office_name} → 横浜事業所" in update.text
    assert "処理方式: インタラクティブ処理方式 → インタラクティブ処理方式、netNACCS" in update.text
    assert "お客様のログインに認証アプリを必須にする: いいえ → はい" in update.text
    assert "office_name" not in update.text and "netnaccs" not in update.text


def test_an_imported_contract_names_the_import_as_its_author(approver_client):
    ensure_processing_methods()
    report = contracts_import(
        file=(Path(settings.BASE_DIR) / "docs" / "samples" / "contracts.csv").read_bytes()
    )
    assert report.ok
    contract = Contract.objects.get(user_code="3CDEF")
    response = approver_client.get(reverse("reviews:contract", kwargs={"pk": contract.pk}))
    [imported] = trail_items(response, "contract-audit-trail")
    assert "契約の取込み" in imported.text and "システム（一括登録）" in imported.text
    assert "契約: 新規登録" in imported.text
    assert "会社名: — → みなと通関株式会社" in imported.text
    assert "追加した利用者ID: 3CDEFA01、" in imported.text
    assert "naccs_user_ids" not in imported.text


# --- a fixed number of queries, however long the trail -------------------------------------------------------


def queries(client, url: str) -> int:
    client.get(url)  # warm: sessions, content types, permissions
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_application_page_makes_as_many_queries_for_a_long_trail_as_for_a_short_one(
    staff_client, reviewer
):
    application = review_services.application_take(application=submitted_application(), actor=reviewer)
    url = application_url(application)
    short = queries(staff_client, url)
    for index in range(10):
        audit.record(application, actor=reviewer, action="internal_note_add", note=f"メモ{index}")
        audit.record(
            application,
            actor=reviewer,
            action="application_start_date_change",
            changes={"start_date": ["2026-12-02", f"2026-12-{10 + index}"]},
            reason="変更",
        )
        audit.record(
            application, actor=None, action="email_resend", email="application_received", to="a@x.example"
        )
    long = queries(staff_client, url)
    assert len(trail_items(staff_client.get(url))) == 32
    assert long == short


def test_the_contract_page_reads_processing_method_names_once_for_the_whole_trail(approver_client, approver):
    ensure_processing_methods()
    contract = ContractFactory()
    url = reverse("reviews:contract", kwargs={"pk": contract.pk})
    audit.record(contract, actor=approver, action="contract_create", processing_methods=["interactive"])
    short = queries(approver_client, url)
    for index in range(10):
        audit.record(
            contract,
            actor=approver,
            action="contract_update",
            changes={
                "processing_methods": [["interactive"], ["interactive", "netnaccs"]],
                "address": ["", str(index)],
            },
        )
    long = queries(approver_client, url)
    assert "netNACCS" in Page(approver_client.get(url)).root.by_id("contract-audit-trail").text
    assert long == short
