"""The NACCS centre's actions on an application (SPEC §4): take, approve (start date, 識別番号, initial
passwords, the confirmation e-mail), four-eyes, reject, progress notices, stale pages and all-or-nothing
approval."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.urls import reverse

from applications import crypto, passwords
from applications.exceptions import DomainError, IllegalTransition
from applications.models import ApplicationStatus, NaccsUserId, ProgressNotice
from reviews import services as review_services
from reviews.services import (
    application_approve,
    application_reject,
    application_take,
    check_confirmed_start_date,
    confirmed_start_date_default,
    progress_notice_post,
)
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    NaccsUserIdFactory,
    StaffFactory,
    identifiers_exhaust,
    staff_in,
    submitted_application,
)

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
D = datetime.date

# Tuesday 2027-04-27, 10:00 in Japan. The earliest desired start date is Fri 4/30 (4/29 昭和の日 is skipped);
# once 4/30 has come, the next business day is Thu 5/6 (weekend, then 5/3–5/5 are public holidays).
NOW = datetime.datetime(2027, 4, 27, 10, 0, tzinfo=JST)
DESIRED = D(2027, 4, 30)
AFTER_GOLDEN_WEEK = D(2027, 5, 6)
PASSWORD_SHAPE = re.compile(r"^[A-Z0-9]{8}$")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def submitted(db):
    return submitted_application(identifiers=("",))


@pytest.fixture
def taken(reviewer):
    application = submitted_application(identifiers=("K12", "", ""))
    return application_take(application=application, actor=reviewer)


def audit_entries(application, action):
    return list(
        LogEntry.objects.get_for_object(application)
        .filter(additional_data__action=action)
        .order_by("timestamp", "pk")
    )


def approval_mails():
    return [message for message in mail.outbox if message.subject == "【NSS】利用申込確認完了のお知らせ"]


def assert_nothing_issued(application, status=ApplicationStatus.UNDER_REVIEW):
    application.refresh_from_db()
    assert application.status == status
    assert application.start_date is None
    assert application.decided_by is None
    assert not NaccsUserId.objects.filter(contract=application.contract).exists()
    assert not ProgressNotice.objects.filter(application=application).exists()
    assert audit_entries(application, "application_approve") == []


# --- application_take ---


def test_take_moves_a_received_application_under_review_with_the_actor_as_reviewer(submitted, reviewer):
    assert submitted.status == ApplicationStatus.SUBMITTED

    result = application_take(application=submitted, actor=reviewer)

    submitted.refresh_from_db()
    assert result.pk == submitted.pk
    assert submitted.status == ApplicationStatus.UNDER_REVIEW
    assert submitted.reviewer == reviewer
    assert submitted.taken_at == NOW


def test_take_is_in_the_audit_trail_with_actor_and_states(submitted, reviewer):
    application_take(application=submitted, actor=reviewer)

    [entry] = audit_entries(submitted, "application_take")
    assert entry.actor == reviewer
    assert entry.changes_dict == {
        "status": ["submitted", "under_review"],
        "reviewer": [None, reviewer.username],
    }


def test_a_customer_cannot_take_an_application(submitted):
    customer = CustomerFactory(contract=submitted.contract)

    with pytest.raises(DomainError) as excinfo:
        application_take(application=submitted, actor=customer)

    assert excinfo.value.code == "permission_denied"
    assert excinfo.value.message
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert submitted.reviewer is None


def test_staff_without_the_review_permission_cannot_take_an_application(submitted):
    with pytest.raises(DomainError) as excinfo:
        application_take(application=submitted, actor=StaffFactory())

    assert excinfo.value.code == "permission_denied"
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert audit_entries(submitted, "application_take") == []


def test_taking_an_application_twice_is_refused_and_changes_nothing(submitted, reviewer, frozen_clock):
    application_take(application=submitted, actor=reviewer)
    other = staff_in("reviewer")
    frozen_clock.shift(datetime.timedelta(hours=1))

    with pytest.raises(DomainError) as excinfo:
        application_take(application=submitted, actor=other)

    # SPEC §8: the refusal names who holds it
    assert excinfo.value.message == f"{reviewer.username}が担当しています。"
    assert excinfo.value.code == "held_by_another"
    submitted.refresh_from_db()
    assert submitted.reviewer == reviewer
    assert submitted.taken_at == NOW
    assert len(audit_entries(submitted, "application_take")) == 1


# --- the start date rule (pure functions) ---


def test_default_start_date_is_the_desired_date_while_it_still_qualifies(submitted):
    assert confirmed_start_date_default(submitted, today=NOW.date()) == DESIRED


def test_default_start_date_moves_to_the_next_business_day_once_the_desired_date_has_come(submitted):
    assert confirmed_start_date_default(submitted, today=DESIRED) == AFTER_GOLDEN_WEEK


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (D(2027, 5, 3), "not_business_day"),  # 憲法記念日
        (D(2027, 5, 1), "not_business_day"),  # Saturday
        (D(2027, 4, 27), "too_early"),  # today
        (D(2027, 4, 26), "too_early"),  # the past
    ],
)
def test_a_confirmed_start_date_on_a_closed_day_or_not_after_today_is_refused(day, code):
    with pytest.raises(DomainError) as excinfo:
        check_confirmed_start_date(day, today=NOW.date())
    assert (excinfo.value.field, excinfo.value.code) == ("start_date", code)


def test_a_confirmed_start_date_on_a_later_business_day_is_accepted():
    check_confirmed_start_date(D(2027, 4, 28), today=NOW.date())


# --- application_approve: start date and the automatic notice ---


def test_approval_defaults_the_start_date_to_the_desired_date_and_posts_no_notice(taken, approver):
    issued = application_approve(application=taken, actor=approver)

    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.APPROVED
    assert taken.start_date == DESIRED
    assert taken.decided_by == approver
    assert {naccs_id.start_date for naccs_id in issued} == {DESIRED}
    assert not ProgressNotice.objects.filter(application=taken).exists()


def test_approval_after_the_desired_date_moves_it_to_the_next_business_day_with_a_notice(
    taken, approver, frozen_clock
):
    frozen_clock.move_to(datetime.datetime(2027, 4, 30, 9, 0, tzinfo=JST))

    issued = application_approve(application=taken, actor=approver)

    taken.refresh_from_db()
    assert taken.start_date == AFTER_GOLDEN_WEEK
    assert {naccs_id.start_date for naccs_id in issued} == {AFTER_GOLDEN_WEEK}
    [notice] = ProgressNotice.objects.filter(application=taken)
    assert notice.text == "NACCSのご利用は5月6日から可能です。"
    assert notice.is_automatic
    assert notice.posted_by is None


def test_an_explicit_start_date_other_than_the_desired_one_posts_the_notice(taken, approver):
    application_approve(application=taken, actor=approver, start_date=D(2027, 5, 7))

    taken.refresh_from_db()
    assert taken.start_date == D(2027, 5, 7)
    assert [n.text for n in ProgressNotice.objects.filter(application=taken)] == [
        "NACCSのご利用は5月7日から可能です。"
    ]


def test_a_start_date_of_next_year_puts_the_year_in_the_notice(reviewer, approver, frozen_clock):
    # Filed on Fri 2027-12-17 for Mon 12/27; approved on 12/27 itself, so the default moves to the next business
    # day: 12/28, then the year-end closure (12/29–1/3) → Tue 2028-01-04, a day of next year.
    frozen_clock.move_to(datetime.datetime(2027, 12, 17, 10, 0, tzinfo=JST))
    application = submitted_application(desired_start_date=D(2027, 12, 27))
    application = application_take(application=application, actor=reviewer)
    frozen_clock.move_to(datetime.datetime(2027, 12, 28, 9, 0, tzinfo=JST))

    plan = review_services.approval_plan(application=application, actor=approver)
    application_approve(application=application, actor=approver)

    application.refresh_from_db()
    assert application.start_date == D(2028, 1, 4)
    assert plan.notice_text == "NACCSのご利用は2028年1月4日から可能です。"
    assert [n.text for n in ProgressNotice.objects.filter(application=application)] == [plan.notice_text]


def test_a_start_date_of_this_year_keeps_the_notice_of_the_guide_without_the_year():
    today = D(2027, 12, 28)
    assert review_services.approval_notice_text(D(2027, 12, 28), today=today) == (
        "NACCSのご利用は12月28日から可能です。"
    )
    assert review_services.approval_notice_text(D(2028, 1, 4), today=today) == (
        "NACCSのご利用は2028年1月4日から可能です。"
    )


def test_an_explicit_start_date_equal_to_the_desired_one_posts_no_notice(taken, approver):
    application_approve(application=taken, actor=approver, start_date=DESIRED)

    assert not ProgressNotice.objects.filter(application=taken).exists()


@pytest.mark.parametrize(
    ("start_date", "code"),
    [(D(2027, 5, 3), "not_business_day"), (D(2027, 4, 26), "too_early"), (D(2027, 4, 27), "too_early")],
)
def test_an_explicit_start_date_on_a_holiday_or_not_in_the_future_is_refused_and_nothing_saved(
    taken, approver, start_date, code, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DomainError) as excinfo,
    ):
        application_approve(application=taken, actor=approver, start_date=start_date)

    assert (excinfo.value.field, excinfo.value.code) == ("start_date", code)
    assert callbacks == []
    assert approval_mails() == []
    assert_nothing_issued(taken)


# --- application_approve: 識別番号 ---


def test_approval_issues_one_id_per_item_with_the_desired_identifier_when_free(taken, approver):
    items = list(taken.items.order_by("id"))

    issued = application_approve(application=taken, actor=approver)

    assert len(issued) == len(items) == 3
    rows = list(NaccsUserId.objects.filter(contract=taken.contract).order_by("item_id"))
    assert [row.item_id for row in rows] == [item.pk for item in items]
    assert rows[0].identifier == "K12"
    assert all(row.issued_by_id == taken.pk for row in rows)
    assert all(
        row.processing_method_id == item.processing_method_id for row, item in zip(rows, items, strict=True)
    )
    assert all(row.broker_name == item.broker_name for row, item in zip(rows, items, strict=True))
    assert all(row.is_customs_broker for row in rows)
    assert len({row.identifier for row in rows}) == 3


def test_allocated_identifiers_skip_those_in_the_contract_and_never_contain_o_or_i(reviewer, approver):
    contract = ContractFactory()
    existing = {"AAA", "AAB", "AAD"}
    for identifier in existing:
        NaccsUserIdFactory(contract=contract, identifier=identifier)
    application = submitted_application(contract=contract, identifiers=("", "", ""))
    application_take(application=application, actor=reviewer)

    issued = application_approve(application=application, actor=approver)

    allocated = [naccs_id.identifier for naccs_id in issued]
    assert allocated == ["AAC", "AAE", "AAF"]
    assert not set(allocated) & existing
    assert all(re.fullmatch(r"[A-Z0-9]{3}", identifier) for identifier in allocated)
    assert not any(letter in identifier for identifier in allocated for letter in "OI")


def test_a_desired_identifier_taken_since_submission_is_replaced_by_an_allocated_one(reviewer, approver):
    application = submitted_application(identifiers=("K12",))
    application_take(application=application, actor=reviewer)
    NaccsUserIdFactory(contract=application.contract, identifier="K12")

    [issued] = application_approve(application=application, actor=approver)

    assert issued.identifier != "K12"
    assert "O" not in issued.identifier and "I" not in issued.identifier
    assert NaccsUserId.objects.filter(contract=application.contract, identifier="K12").count() == 1


def test_approval_in_a_contract_with_no_identifier_left_is_refused_and_issues_nothing(
    taken, approver, django_capture_on_commit_callbacks
):
    identifiers_exhaust(taken.contract)
    held = NaccsUserId.objects.filter(contract=taken.contract).count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as refused:
        application_approve(application=taken, actor=approver)
    assert refused.value.code == "identifiers_exhausted"
    assert "払い出せる識別番号が残っていない" in refused.value.message
    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.UNDER_REVIEW
    assert taken.start_date is None
    assert NaccsUserId.objects.filter(contract=taken.contract).count() == held
    assert not NaccsUserId.objects.filter(issued_by=taken).exists()
    assert audit_entries(taken, "application_approve") == []
    assert approval_mails() == []


def test_an_identifier_held_by_another_contract_is_still_given_as_desired(reviewer, approver):
    NaccsUserIdFactory(identifier="K12")
    application = submitted_application(identifiers=("K12",))
    application_take(application=application, actor=reviewer)

    [issued] = application_approve(application=application, actor=approver)

    assert issued.identifier == "K12"


# --- application_approve: initial passwords ---


def test_each_issued_id_gets_an_initial_password_stored_encrypted_and_hashed(taken, approver):
    issued = application_approve(application=taken, actor=approver)

    clear_passwords = []
    for naccs_id in NaccsUserId.objects.filter(pk__in=[i.pk for i in issued]):
        password = crypto.decrypt(naccs_id.initial_password_encrypted)
        clear_passwords.append(password)
        assert PASSWORD_SHAPE.fullmatch(password)
        assert re.search(r"[A-Z]", password) and re.search(r"[0-9]", password)
        assert passwords.naccs_password_problem(password) is None
        assert password not in naccs_id.initial_password_encrypted
        assert password not in naccs_id.password_hash
        assert passwords.check_naccs_password(password, naccs_id.password_hash)
        assert not passwords.check_naccs_password(password.lower(), naccs_id.password_hash)
    assert len(clear_passwords) == 3


# --- application_approve: e-mail and audit ---


def test_approval_sends_the_confirmation_email_after_commit(
    taken, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application_approve(application=taken, actor=approver)

    [message] = approval_mails()
    assert message.to == [taken.applicant_email]
    contract = taken.contract
    addressee = f"{contract.company_name} {contract.office_name} {taken.applicant_department}"
    assert message.body.startswith(f"{addressee}\n{taken.applicant_name} 様")
    assert f"【{taken.reception_number}】" in message.body
    assert "2027年4月30日" in message.body
    [link] = [
        url for url in re.findall(r"https?://\S+", message.body) if urlsplit(url).path == reverse("login")
    ]
    assert parse_qs(urlsplit(link).query)["next"] == [f"/applications/{taken.pk}/"]


def test_approval_is_in_the_audit_trail_with_states_start_date_and_issued_ids(taken, approver):
    issued = application_approve(application=taken, actor=approver)

    [entry] = audit_entries(taken, "application_approve")
    assert entry.actor == approver
    assert entry.changes_dict["status"] == ["under_review", "approved"]
    # The application had no start date before; the desired one is a detail of its own.
    assert entry.changes_dict["start_date"] == [None, str(DESIRED)]
    assert entry.additional_data["desired_start_date"] == str(DESIRED)
    assert sorted(entry.additional_data["issued"]) == sorted(
        f"{taken.contract.user_code}{naccs_id.identifier}" for naccs_id in issued
    )


def test_approving_a_received_application_nobody_took_is_refused(submitted, approver):
    with pytest.raises(IllegalTransition) as excinfo:
        application_approve(application=submitted, actor=approver)

    assert excinfo.value.code == "illegal_transition"
    assert_nothing_issued(submitted, status=ApplicationStatus.SUBMITTED)


def test_approving_twice_is_refused_and_never_issues_a_second_set(
    taken, approver, django_capture_on_commit_callbacks
):
    first = application_approve(application=taken, actor=approver)
    before = list(
        NaccsUserId.objects.filter(contract=taken.contract).values_list("pk", "identifier", "password_hash")
    )

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(IllegalTransition) as excinfo,
    ):
        application_approve(application=taken, actor=staff_in("approver"))

    assert excinfo.value.message
    assert callbacks == []
    after = list(
        NaccsUserId.objects.filter(contract=taken.contract).values_list("pk", "identifier", "password_hash")
    )
    assert after == before
    assert len(after) == len(first)
    taken.refresh_from_db()
    assert taken.decided_by == approver
    assert len(audit_entries(taken, "application_approve")) == 1


def test_staff_without_the_review_permission_cannot_approve(taken):
    with pytest.raises(DomainError) as excinfo:
        application_approve(application=taken, actor=StaffFactory())

    assert excinfo.value.code == "permission_denied"
    assert_nothing_issued(taken)


# --- four-eyes ---


def test_with_four_eyes_the_approver_who_took_the_application_cannot_approve_it(approver, settings):
    settings.NSS_FOUR_EYES = True
    application = submitted_application()
    application_take(application=application, actor=approver)

    with pytest.raises(DomainError) as excinfo:
        application_approve(application=application, actor=approver)

    assert excinfo.value.code == "four_eyes_same_person"
    assert_nothing_issued(application)


def test_with_four_eyes_the_reviewer_who_took_the_application_cannot_approve_it(taken, reviewer, settings):
    settings.NSS_FOUR_EYES = True

    with pytest.raises(DomainError) as excinfo:
        application_approve(application=taken, actor=reviewer)

    assert excinfo.value.code in {"four_eyes_role", "four_eyes_same_person"}
    assert_nothing_issued(taken)


def test_with_four_eyes_a_reviewer_without_the_approver_role_cannot_approve(taken, settings):
    settings.NSS_FOUR_EYES = True

    with pytest.raises(DomainError) as excinfo:
        application_approve(application=taken, actor=staff_in("reviewer"))

    assert excinfo.value.code == "four_eyes_role"
    assert_nothing_issued(taken)


def test_with_four_eyes_a_different_approver_can_approve(taken, approver, settings):
    settings.NSS_FOUR_EYES = True

    issued = application_approve(application=taken, actor=approver)

    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.APPROVED
    assert taken.decided_by == approver
    assert len(issued) == 3


def test_without_four_eyes_the_reviewer_who_took_the_application_can_approve_it(taken, reviewer, settings):
    settings.NSS_FOUR_EYES = False

    application_approve(application=taken, actor=reviewer)

    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.APPROVED
    assert taken.decided_by == reviewer == taken.reviewer


# --- application_reject ---


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_rejecting_without_a_reason_is_refused(taken, reviewer, reason):
    with pytest.raises(DomainError) as excinfo:
        application_reject(application=taken, actor=reviewer, reason=reason)

    assert (excinfo.value.field, excinfo.value.code) == ("reason", "required")
    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.UNDER_REVIEW
    assert taken.rejection_reason == ""


def test_rejection_stores_the_reason_and_sends_the_notice_email(
    taken, reviewer, django_capture_on_commit_callbacks
):
    reason = "通関士の氏名が登録内容と一致しません。"

    with django_capture_on_commit_callbacks(execute=True):
        application_reject(application=taken, actor=reviewer, reason=f"  {reason}\n")

    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.REJECTED
    assert taken.rejection_reason == reason
    assert taken.decided_by == reviewer
    assert not NaccsUserId.objects.filter(contract=taken.contract).exists()
    [message] = mail.outbox
    assert "不受理のお知らせ" in message.subject
    assert message.to == [taken.applicant_email]
    assert reason in message.body
    assert taken.reception_number in message.body
    [entry] = audit_entries(taken, "application_reject")
    assert entry.actor == reviewer
    assert entry.changes_dict == {"status": ["under_review", "rejected"]}
    assert entry.additional_data["reason"] == reason


def test_rejecting_an_approved_application_is_refused(
    taken, approver, reviewer, django_capture_on_commit_callbacks
):
    application_approve(application=taken, actor=approver)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(IllegalTransition) as excinfo,
    ):
        application_reject(application=taken, actor=reviewer, reason="誤り")

    assert excinfo.value.code == "illegal_transition"
    assert callbacks == []
    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.APPROVED
    assert taken.rejection_reason == ""
    assert NaccsUserId.objects.filter(issued_by=taken).count() == 3


# --- progress_notice_post ---


@pytest.mark.parametrize("text", ["", "  \n "])
def test_a_progress_notice_needs_a_text(taken, reviewer, text):
    with pytest.raises(DomainError) as excinfo:
        progress_notice_post(application=taken, actor=reviewer, text=text)

    assert (excinfo.value.field, excinfo.value.code) == ("text", "required")
    assert not ProgressNotice.objects.filter(application=taken).exists()


def test_a_progress_notice_is_stored_with_its_author_and_audited(taken, reviewer):
    notice = progress_notice_post(application=taken, actor=reviewer, text=" 確認のためご連絡します。 ")

    notice.refresh_from_db()
    assert notice.application_id == taken.pk
    assert notice.text == "確認のためご連絡します。"
    assert notice.posted_by == reviewer
    assert not notice.is_automatic
    [entry] = audit_entries(taken, "progress_notice_post")
    assert entry.actor == reviewer
    assert entry.additional_data["text"] == "確認のためご連絡します。"


def test_a_customer_cannot_post_a_progress_notice(taken):
    with pytest.raises(DomainError) as excinfo:
        progress_notice_post(
            application=taken, actor=CustomerFactory(contract=taken.contract), text="こんにちは"
        )

    assert excinfo.value.code == "permission_denied"
    assert not ProgressNotice.objects.filter(application=taken).exists()


def test_a_progress_notice_on_a_draft_is_refused(reviewer):
    draft = DraftFactory(desired_start_date=DESIRED)

    with pytest.raises(IllegalTransition) as excinfo:
        progress_notice_post(application=draft, actor=reviewer, text="こんにちは")

    assert excinfo.value.code == "draft"
    assert not ProgressNotice.objects.filter(application=draft).exists()


# --- stale pages ---


def test_approving_from_a_stale_page_is_refused_as_stale(taken, approver):
    with pytest.raises(IllegalTransition) as excinfo:
        application_approve(application=taken, actor=approver, seen_status=ApplicationStatus.SUBMITTED)

    assert excinfo.value.code == "stale"
    assert "内容確認中" in str(excinfo.value.message)
    assert_nothing_issued(taken)


def test_rejecting_from_a_stale_page_is_refused_as_stale(taken, approver, reviewer):
    application_approve(application=taken, actor=approver, seen_status=ApplicationStatus.UNDER_REVIEW)

    with pytest.raises(IllegalTransition) as excinfo:
        application_reject(
            application=taken, actor=reviewer, reason="誤り", seen_status=ApplicationStatus.UNDER_REVIEW
        )

    assert excinfo.value.code == "stale"
    assert "審査終了" in str(excinfo.value.message)
    taken.refresh_from_db()
    assert taken.status == ApplicationStatus.APPROVED


# --- all or nothing ---


def test_an_approval_failing_midway_through_issuing_leaves_nothing_behind(
    taken, approver, monkeypatch, frozen_clock, django_capture_on_commit_callbacks
):
    frozen_clock.move_to(datetime.datetime(2027, 4, 30, 9, 0, tzinfo=JST))  # the notice would be posted too
    real_encrypt = crypto.encrypt
    calls = []

    def encrypt_then_fail(plaintext):
        calls.append(plaintext)
        if len(calls) == 3:
            raise RuntimeError("key store unavailable")
        return real_encrypt(plaintext)

    monkeypatch.setattr(crypto, "encrypt", encrypt_then_fail)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        application_approve(application=taken, actor=approver)

    assert len(calls) == 3  # two IDs were created before the failure
    assert callbacks == []
    assert mail.outbox == []
    assert_nothing_issued(taken)


def test_an_approval_whose_email_cannot_be_queued_leaves_nothing_behind(
    taken, approver, monkeypatch, frozen_clock, django_capture_on_commit_callbacks
):
    frozen_clock.move_to(datetime.datetime(2027, 4, 30, 9, 0, tzinfo=JST))

    def fail(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(review_services, "email_application_approved_queue", fail)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        application_approve(application=taken, actor=approver)

    assert callbacks == []
    assert mail.outbox == []
    assert_nothing_issued(taken)
