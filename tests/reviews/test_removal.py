"""通関士IDの削除 (SPEC §9), the centre's side: the queue's 申込の種類 filter, 承認内容を確認する and approval (the
利用終了日, the IDs revoked from 00:00 Japan time of it, no ID issued, the automatic notice when the 利用終了日 is
not the desired one), the audit trail, the result e-mail, the customer's 詳細, and the UTB effect (U0001 and UTB01
from the end date on)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from applications import audit, business_calendar, clock
from applications.exceptions import DomainError
from applications.models import ApplicationKind, ApplicationStatus, NaccsUserId, ProgressNotice
from reviews import selectors
from reviews.services import application_approve, application_take, approval_plan, removal_notice_text
from tests.factories import (
    NaccsUserIdFactory,
    approve_on_screens,
    staff_in,
    submitted_application,
    submitted_removal,
)
from tests.html import Page
from utb_gateway import result_codes as rc
from utb_gateway.services import naccs_id_login_refusal, utb01_list

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

APPROVED_SUBJECT = "【NSS】利用申込確認完了のお知らせ"


@pytest.fixture
def targets(contract):
    return [
        NaccsUserIdFactory(
            contract=contract, identifier="A0A", broker_name="通関 一郎", password_changed_at=clock.now()
        ),
        NaccsUserIdFactory(
            contract=contract, identifier="B0B", broker_name="通関 二郎", password_changed_at=clock.now()
        ),
    ]


@pytest.fixture
def removal(contract, targets):
    application = submitted_removal(contract=contract, targets=targets[:1])
    return application_take(application=application, actor=staff_in("reviewer"))


def _approve(application, **kwargs):
    return application_approve(application=application, actor=staff_in("approver"), **kwargs)


def test_the_plan_names_the_ids_to_remove_and_the_end_date(removal, contract):
    plan = approval_plan(application=removal, actor=staff_in("approver"))
    assert plan.start_date == removal.desired_end_date
    assert [planned.naccs_user_id for planned in plan.ids] == [f"{contract.user_code}A0A"]
    assert plan.notice_text is None and plan.warnings == []


def test_approval_fixes_the_end_date_and_revokes_the_ids_from_its_start(removal, targets, contract):
    revoked = _approve(removal)
    removal.refresh_from_db()
    assert removal.status == ApplicationStatus.APPROVED
    assert removal.end_date == removal.desired_end_date and removal.start_date is None
    assert [naccs_id.pk for naccs_id in revoked] == [targets[0].pk]
    targets[0].refresh_from_db()
    targets[1].refresh_from_db()
    assert targets[0].revoked_at == datetime.datetime.combine(
        removal.end_date, datetime.time.min, tzinfo=clock.JST
    )
    assert targets[1].revoked_at is None
    assert NaccsUserId.objects.filter(contract=contract).count() == 2  # none issued


def test_an_end_date_that_no_longer_qualifies_moves_to_the_next_business_day(removal, frozen_clock):
    frozen_clock.move_to(clock.start_of_day(removal.desired_end_date) + datetime.timedelta(hours=10))
    _approve(removal)
    removal.refresh_from_db()
    assert removal.end_date == business_calendar.next_business_day(removal.desired_end_date)


def test_a_different_end_date_is_warned_about(removal):
    later = business_calendar.next_business_day(removal.desired_end_date)
    plan = approval_plan(application=removal, actor=staff_in("approver"), start_date=later)
    assert any("利用終了希望日" in warning for warning in plan.warnings)


def test_approval_is_audited_with_the_removed_ids(removal, contract):
    _approve(removal)
    [approval] = [
        entry
        for entry in selectors.audit_trail(application=removal)
        if entry.additional_data.get("action") == "application_approve_removal"
    ]
    assert approval.additional_data["removed"] == [f"{contract.user_code}A0A"]
    lines = audit.trail_lines([approval])[0]
    text = " ".join(f"{line.label} {line.value} {line.old} {line.new}" for line in lines)
    assert f"{contract.user_code}A0A" in text and "削除する通関士ID" in text and "利用終了日" in text


def test_the_result_email_names_the_kind_the_end_date_and_the_ids(
    removal, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _approve(removal)
    [message] = [m for m in mail.outbox if m.subject == APPROVED_SUBJECT]
    assert "申込種別：通関士IDの削除" in message.body
    assert "利用終了日" in message.body and f"{contract.user_code}A0A" in message.body
    assert "ID通知内容" not in message.body


def test_the_utb_gateway_refuses_the_removed_id_from_its_end_date(removal, targets, frozen_clock):
    _approve(removal)
    removal.refresh_from_db()
    targets[0].refresh_from_db()
    day_before = removal.end_date - datetime.timedelta(days=1)
    assert naccs_id_login_refusal(targets[0], today=day_before) is None
    assert naccs_id_login_refusal(targets[0], today=removal.end_date) == "この利用者IDは廃止されています。"
    # UTB01 lists it until its end date, and no longer from 00:00 Japan time of that day.
    inputter = targets[1]
    listed_before = utb01_list(
        inputter=inputter, now=clock.start_of_day(day_before) + datetime.timedelta(hours=10)
    )
    assert targets[0].naccs_user_id in [item.user_id for item in listed_before.items]
    on_the_day = utb01_list(
        inputter=inputter, now=clock.start_of_day(removal.end_date) + datetime.timedelta(hours=10)
    )
    assert on_the_day.result == rc.OK
    assert targets[0].naccs_user_id not in [item.user_id for item in on_the_day.items]


def test_the_queue_filters_by_kind(removal, contract):
    addition = submitted_application(contract=contract)
    today = clock.today()
    removals = selectors.queue_filtered(kind=ApplicationKind.REMOVE_BROKER_IDS, today=today)
    additions = selectors.queue_filtered(kind=ApplicationKind.ADD_CUSTOMS_BROKER_IDS, today=today)
    assert list(removals) == [removal] and list(additions) == [addition]


def test_the_queue_screen_has_the_kind_filter(staff_client, removal, contract):
    submitted_application(contract=contract)
    page = Page(staff_client.get(reverse("reviews:queue"), {"kind": ApplicationKind.REMOVE_BROKER_IDS}))
    assert page.control_labelled("申込の種類") is not None
    assert removal.reception_number in page.text
    assert removal.desired_end_date.strftime("%Y/%m/%d") in page.text
    assert page.text.count("通関士IDの追加") <= 1  # only as an option of the filter


def test_staff_approve_a_removal_on_the_screens(staff_client, reviewer, contract, targets, settings):
    settings.NSS_FOUR_EYES = False
    application = submitted_removal(contract=contract, targets=targets[:1])
    application_take(application=application, actor=reviewer)
    detail = Page(staff_client.get(reverse("reviews:application", kwargs={"pk": application.pk})))
    assert detail.control_labelled("利用終了日") is not None
    confirm = Page(
        staff_client.get(
            reverse("reviews:approve-confirm", kwargs={"pk": application.pk}),
            {"start_date": application.desired_end_date.isoformat(), "seen_status": "under_review"},
        )
    )
    assert confirm.screen == "staff-approve-confirm"
    assert f"{contract.user_code}A0A" in confirm.text and "利用終了日" in confirm.text
    assert "承認する（IDを削除する）" in confirm.buttons()
    approve_on_screens(staff_client, application, start_date=application.desired_end_date)
    application.refresh_from_db()
    assert (
        application.status == ApplicationStatus.APPROVED
        and application.end_date == application.desired_end_date
    )


def test_the_customers_detail_shows_the_end_date_and_the_removed_ids_and_no_id_notice(
    customer_client, removal, contract
):
    _approve(removal)
    page = Page(customer_client.get(reverse("applications:application-detail", kwargs={"pk": removal.pk})))
    end = page.root.find_all(**{"data-field": "end_date"})[0].text
    assert (
        end
        == f"{removal.desired_end_date.year}年{removal.desired_end_date.month}月{removal.desired_end_date.day}日"
    )
    assert f"{contract.user_code}A0A" in page.root.find_all(**{"data-field": "removed_ids"})[0].text
    assert "ID通知内容" not in page.links()
    notice = customer_client.get(reverse("applications:id-notice", kwargs={"pk": removal.pk}))
    assert notice.status_code == 404


def test_start_date_near_reads_a_removals_desired_end_date(contract, targets, staff_client):
    from applications import rules

    near = submitted_removal(
        contract=contract, targets=targets[:1]
    )  # the earliest 利用終了希望日: 2 business days
    assert near.desired_start_date is None
    assert rules.is_start_date_near(near, clock.today())
    page = Page(staff_client.get(reverse("reviews:application", kwargs={"pk": near.pk})))
    [alert] = [node for node in page.root.iter() if "data-start-date-near" in node.attrs]
    assert "利用終了希望日" in alert.text and "利用開始希望日" not in alert.text
    later = business_calendar.add_business_days(clock.today(), 5)
    calm = submitted_removal(contract=contract, targets=targets[1:2], desired_end_date=later)
    assert not rules.is_start_date_near(calm, clock.today())


# --- the automatic notice of a 利用終了日 other than the desired one -------------------------------------------


def _notices_on_the_customers_detail(client, application) -> list[str]:
    page = Page(client.get(reverse("applications:application-detail", kwargs={"pk": application.pk})))
    return [" ".join(row.text.split()) for row in page.root.find_all("tr") if "data-notice" in row.attrs]


def test_a_different_end_date_posts_one_automatic_notice_the_customer_reads(removal, customer_client):
    later = business_calendar.next_business_day(removal.desired_end_date)
    plan = approval_plan(application=removal, actor=staff_in("approver"), start_date=later)
    assert plan.notice_text == f"削除する通関士IDは{later.month}月{later.day}日から利用できなくなります。"
    _approve(removal, start_date=later, confirmation=plan.confirmation)
    [notice] = ProgressNotice.objects.filter(application=removal)
    assert notice.is_automatic and notice.posted_by is None and notice.text == plan.notice_text
    [shown] = _notices_on_the_customers_detail(customer_client, removal)
    assert plan.notice_text in shown


def test_the_desired_end_date_posts_no_notice(removal, customer_client):
    plan = approval_plan(application=removal, actor=staff_in("approver"))
    assert plan.notice_text is None
    _approve(removal, start_date=removal.desired_end_date, confirmation=plan.confirmation)
    assert not ProgressNotice.objects.filter(application=removal).exists()
    assert _notices_on_the_customers_detail(customer_client, removal) == []


def test_the_removal_notice_names_the_year_only_when_it_is_not_this_years():
    today = datetime.date(2027, 12, 28)
    assert removal_notice_text(datetime.date(2027, 12, 28), today=today) == (
        "削除する通関士IDは12月28日から利用できなくなります。"
    )
    assert removal_notice_text(datetime.date(2028, 1, 4), today=today) == (
        "削除する通関士IDは2028年1月4日から利用できなくなります。"
    )


def test_the_confirmation_screen_shows_the_removals_notice(
    staff_client, reviewer, contract, targets, settings
):
    settings.NSS_FOUR_EYES = False
    application = submitted_removal(contract=contract, targets=targets[:1])
    application_take(application=application, actor=reviewer)
    url = reverse("reviews:approve-confirm", kwargs={"pk": application.pk})

    def notice_cell(day):
        page = Page(staff_client.get(url, {"start_date": day.isoformat(), "seen_status": "under_review"}))
        assert page.screen == "staff-approve-confirm"
        [cell] = page.root.find_all(**{"data-field": "notice"})
        return cell.text

    assert notice_cell(application.desired_end_date) == "なし（利用終了日が希望日どおりのため）"
    later = business_calendar.next_business_day(application.desired_end_date)
    assert notice_cell(later) == f"削除する通関士IDは{later.month}月{later.day}日から利用できなくなります。"
    approve_on_screens(staff_client, application, start_date=later)
    assert [notice.text for notice in ProgressNotice.objects.filter(application=application)] == [
        f"削除する通関士IDは{later.month}月{later.day}日から利用できなくなります。"
    ]


def test_a_confirmed_notice_that_would_read_otherwise_is_refused(contract, targets, frozen_clock):
    """The confirmation covers the notice: confirmed in December for a January 利用終了日 (the notice names the
    year), committed in that January (it would not), approval is refused and nothing is posted."""
    frozen_clock.move_to(datetime.datetime(2026, 12, 21, 10, 0, tzinfo=clock.JST))
    application = submitted_removal(
        contract=contract, targets=targets[:1], desired_end_date=datetime.date(2027, 1, 6)
    )
    application = application_take(application=application, actor=staff_in("reviewer"))
    approver = staff_in("approver")
    end = datetime.date(2027, 1, 5)
    plan = approval_plan(application=application, actor=approver, start_date=end)
    assert plan.notice_text == "削除する通関士IDは2027年1月5日から利用できなくなります。"
    frozen_clock.move_to(datetime.datetime(2027, 1, 4, 10, 0, tzinfo=clock.JST))
    with pytest.raises(DomainError) as stale:
        application_approve(
            application=application, actor=approver, start_date=end, confirmation=plan.confirmation
        )
    assert stale.value.code == "stale_confirmation"
    assert not ProgressNotice.objects.filter(application=application).exists()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
