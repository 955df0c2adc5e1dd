"""The staff workplace for a full day's work (SPEC §8): assignment (担当する / 担当を外す / 担当者を変更), the
two-step approval, the start-date correction, bulk take, internal notes and 開始日間近 — the services' rules and
the screens that offer them."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from applications import clock, rules
from applications.exceptions import DomainError
from applications.models import Application, ApplicationStatus, InternalNote, NaccsUserId, ProgressNotice
from notifications.models import Email
from reviews import services
from tests.factories import (
    CustomerFactory,
    approve_on_screens,
    staff_in,
    staff_with_device,
    submitted_application,
)
from tests.html import Page
from utb_gateway.services import naccs_id_login_refusal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

D = datetime.date
# The clock stands on Monday 2026-11-16 (tests/factories.py FROZEN_AT); 11/23 is 勤労感謝の日.
NEAR = D(2026, 11, 18)  # 2 business days ahead: 開始日間近 by default
CALM = D(2026, 11, 20)  # 4 business days ahead
BEYOND_WINDOW = D(2027, 2, 17)  # the customer's window ends three months after filing, 2027-02-16


def fresh(application) -> Application:
    return Application.objects.select_related("reviewer").get(pk=application.pk)


def entries(application, action):
    return list(
        LogEntry.objects.filter(object_id=application.pk, additional_data__action=action).order_by("pk")
    )


def detail_url(application) -> str:
    return reverse("reviews:application", kwargs={"pk": application.pk})


def approved(application, actor, **kwargs):
    services.application_take(application=application, actor=actor)
    services.application_approve(application=fresh(application), actor=actor, **kwargs)
    return fresh(application)


# --- 開始日間近 ---------------------------------------------------------------------------------------------


def test_start_date_near_is_within_the_warning_business_days_and_only_while_open(settings, reviewer):
    near = submitted_application(desired_start_date=NEAR)
    calm = submitted_application(desired_start_date=CALM)
    today = clock.today()
    assert rules.is_start_date_near(near, today)
    assert not rules.is_start_date_near(calm, today)
    settings.NSS_START_DATE_WARNING_BUSINESS_DAYS = 4
    assert rules.is_start_date_near(calm, today)
    # decided: nothing left to warn about
    settings.NSS_START_DATE_WARNING_BUSINESS_DAYS = 2
    assert not rules.is_start_date_near(approved(near, reviewer), today)


def test_the_warning_counts_business_days_not_calendar_days():
    # Thursday 11/19: two business days ahead skip the weekend and 11/23 (勤労感謝の日): Tuesday 11/24.
    today = D(2026, 11, 19)
    assert rules.start_date_warning_limit(today) == D(2026, 11, 24)


def test_the_queue_and_the_page_mark_start_date_near(staff_client):
    near = submitted_application(desired_start_date=NEAR)
    calm = submitted_application(desired_start_date=CALM)
    page = Page(staff_client.get(reverse("reviews:queue")))
    rows = {
        row.attrs["data-reception-number"]: row
        for row in page.root.find_all("tr")
        if "data-reception-number" in row.attrs
    }
    assert "data-start-date-near" in rows[near.reception_number].attrs
    assert "開始日間近" in rows[near.reception_number].text
    assert "data-start-date-near" not in rows[calm.reception_number].attrs
    assert "開始日間近" in Page(staff_client.get(detail_url(near))).text
    assert "開始日間近" not in Page(staff_client.get(detail_url(calm))).text


# --- assignment ---------------------------------------------------------------------------------------------


def test_taking_one_another_holds_names_the_holder(reviewer):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    other = staff_in("reviewer")
    with pytest.raises(DomainError) as refused:
        services.application_take(application=application, actor=other)
    assert refused.value.message == f"{reviewer.username}が担当しています。"
    with pytest.raises(DomainError) as again:
        services.application_take(application=application, actor=reviewer)
    assert again.value.code == "already_yours"


def test_release_gives_it_back_to_submitted_and_is_audited(reviewer):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    services.application_release(application=application, actor=reviewer, seen_reviewer_id=reviewer.pk)
    application = fresh(application)
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.reviewer is None and application.taken_at is None
    [entry] = entries(application, "application_release")
    assert entry.changes_dict == {
        "status": ["under_review", "submitted"],
        "reviewer": [reviewer.username, None],
    }
    # and anyone may take it again
    other = staff_in("reviewer")
    services.application_take(application=application, actor=other)
    assert fresh(application).reviewer == other


def test_another_reviewer_cannot_release_but_an_approver_can(reviewer, approver):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    other = staff_in("reviewer")
    with pytest.raises(DomainError) as refused:
        services.application_release(application=application, actor=other)
    assert refused.value.code == "not_holder"
    assert reviewer.username in refused.value.message
    assert fresh(application).reviewer == reviewer
    services.application_release(application=application, actor=approver)
    assert fresh(application).status == ApplicationStatus.SUBMITTED


def test_release_refuses_a_stale_holder_and_a_submitted_application(reviewer, approver):
    application = submitted_application()
    with pytest.raises(DomainError) as not_taken:
        services.application_release(application=application, actor=reviewer)
    assert not_taken.value.code == "illegal_transition"
    services.application_take(application=application, actor=reviewer)
    # the approver's page showed nobody holding it: the holder changed since, so nothing happens
    with pytest.raises(DomainError) as stale:
        services.application_release(application=application, actor=approver, seen_reviewer_id=0)
    assert stale.value.code == "stale"
    assert reviewer.username in stale.value.message
    assert fresh(application).reviewer == reviewer


def test_an_approver_reassigns_to_another_reviewer(reviewer, approver):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    other = staff_with_device("reviewer")
    services.application_reassign(
        application=application, actor=approver, reviewer=other, seen_reviewer_id=reviewer.pk
    )
    application = fresh(application)
    assert application.reviewer == other
    assert application.status == ApplicationStatus.UNDER_REVIEW
    [entry] = entries(application, "application_reassign")
    assert entry.changes_dict == {"reviewer": [reviewer.username, other.username]}
    assert entry.actor == approver


def test_reassigning_a_submitted_application_takes_it_for_the_new_reviewer(approver):
    application = submitted_application()
    other = staff_with_device("reviewer")
    services.application_reassign(application=application, actor=approver, reviewer=other)
    application = fresh(application)
    assert (application.status, application.reviewer) == (ApplicationStatus.UNDER_REVIEW, other)


def test_reassign_refusals(reviewer, approver):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    target = staff_with_device("reviewer")
    with pytest.raises(DomainError) as not_approver:
        services.application_reassign(application=application, actor=reviewer, reviewer=target)
    assert not_approver.value.code == "permission_denied"
    # a customer, an account that cannot log in, or a stopped one is no reviewer
    not_enrolled = staff_in("reviewer")
    stopped = staff_with_device("reviewer", is_active=False)
    for account in (CustomerFactory(contract=application.contract), not_enrolled, stopped):
        with pytest.raises(DomainError) as refused:
            services.application_reassign(application=application, actor=approver, reviewer=account)
        assert refused.value.field == "reviewer"
    with pytest.raises(DomainError) as same:
        services.application_reassign(application=application, actor=approver, reviewer=reviewer)
    assert same.value.code == "same_reviewer"
    assert fresh(application).reviewer == reviewer
    assert entries(application, "application_reassign") == []


def test_the_page_says_who_holds_it_and_offers_release_to_the_holder_only(
    staff_client, reviewer, approver_client
):
    application = submitted_application()
    holder = staff_in("reviewer", username="yamada-reviewer")
    services.application_take(application=application, actor=holder)
    page = Page(staff_client.get(detail_url(application)))
    assert "yamada-reviewerが担当しています。" in page.text
    assert "担当を外す" not in page.buttons()
    assert "担当者を変更" not in page.buttons()
    approver_page = Page(approver_client.get(detail_url(application)))
    assert "担当を外す" in approver_page.buttons()
    assert "担当者を変更" in approver_page.buttons()


def test_release_and_reassign_through_the_screens(staff_client, reviewer, approver_client):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    response = staff_client.post(
        reverse("reviews:release", kwargs={"pk": application.pk}), {"seen_reviewer": reviewer.pk}, follow=True
    )
    assert "担当を外しました。" in Page(response).page_errors()
    assert fresh(application).status == ApplicationStatus.SUBMITTED
    other = staff_with_device("reviewer", username="sato-reviewer")
    response = approver_client.post(
        reverse("reviews:reassign", kwargs={"pk": application.pk}),
        {"seen_reviewer": 0, "reviewer": other.pk},
        follow=True,
    )
    assert "担当者をsato-reviewerに変更しました。" in Page(response).page_errors()
    assert fresh(application).reviewer == other
    # choosing nobody: the message is next to the field and nothing changes
    response = approver_client.post(
        reverse("reviews:reassign", kwargs={"pk": application.pk}),
        {"seen_reviewer": other.pk, "reviewer": ""},
    )
    assert response.status_code == 200
    assert Page(response).field_errors("reviewer").strip()
    assert fresh(application).reviewer == other


# --- the two-step approval ----------------------------------------------------------------------------------


def test_the_plan_shows_what_approval_will_do_and_changes_nothing(reviewer):
    rival = submitted_application(identifiers=["K12"])
    application = submitted_application(
        contract=rival.contract, methods=("interactive", "netnaccs"), identifiers=["K12", "M34"]
    )
    approved(rival, reviewer)  # K12 goes to the other application of the office
    services.application_take(application=application, actor=reviewer)
    application = fresh(application)
    before = (
        Application.objects.values_list("status", "updated_at").get(pk=application.pk),
        NaccsUserId.objects.count(),
        Email.objects.count(),
        LogEntry.objects.count(),
        ProgressNotice.objects.count(),
    )
    plan = services.approval_plan(application=application, actor=reviewer, start_date=BEYOND_WINDOW)
    after = (
        Application.objects.values_list("status", "updated_at").get(pk=application.pk),
        NaccsUserId.objects.count(),
        Email.objects.count(),
        LogEntry.objects.count(),
        ProgressNotice.objects.count(),
    )
    assert after == before
    code = application.contract.user_code
    assert [planned.naccs_user_id for planned in plan.ids][1] == f"{code}M34"
    assert plan.ids[0].desired_unavailable and plan.ids[0].identifier != "K12"
    assert plan.start_date == BEYOND_WINDOW
    # approved in 2026 for a day of 2027: the notice names the year (the same year would not)
    assert plan.notice_text == "NACCSのご利用は2027年2月17日から可能です。"
    warnings = " ".join(plan.warnings)
    assert "利用開始希望日" in warnings and "異なります" in warnings
    assert "2027年2月16日まで" in warnings
    assert "希望識別番号K12は使用済み" in warnings
    # and approval with it issues exactly what was shown
    issued = services.application_approve(
        application=application, actor=reviewer, start_date=BEYOND_WINDOW, confirmation=plan.confirmation
    )
    assert sorted(naccs_id.naccs_user_id for naccs_id in issued) == sorted(p.naccs_user_id for p in plan.ids)


def test_a_plan_on_the_desired_date_warns_of_nothing(reviewer):
    application = submitted_application(desired_start_date=CALM)
    services.application_take(application=application, actor=reviewer)
    plan = services.approval_plan(application=fresh(application), actor=reviewer, start_date=CALM)
    assert plan.warnings == [] and plan.notice_text is None


def test_the_plan_is_refused_as_approval_would_be(reviewer, settings):
    application = submitted_application()
    with pytest.raises(DomainError) as not_taken:
        services.approval_plan(application=application, actor=reviewer)
    assert not_taken.value.code == "illegal_transition"
    services.application_take(application=application, actor=reviewer)
    with pytest.raises(DomainError) as holiday:
        services.approval_plan(application=fresh(application), actor=reviewer, start_date=D(2026, 11, 23))
    assert holiday.value.field == "start_date"
    settings.NSS_FOUR_EYES = True
    with pytest.raises(DomainError) as four_eyes:
        services.approval_plan(application=fresh(application), actor=reviewer)
    assert four_eyes.value.code.startswith("four_eyes")


def test_a_stale_confirmation_is_refused_when_the_ids_would_differ(reviewer):
    application = submitted_application(identifiers=["K12"])
    services.application_take(application=application, actor=reviewer)
    plan = services.approval_plan(application=fresh(application), actor=reviewer)
    assert plan.ids[0].identifier == "K12"
    # meanwhile another application of the office is approved with K12
    rival = submitted_application(contract=application.contract, identifiers=["K12"])
    approved(rival, reviewer)
    with pytest.raises(DomainError) as stale:
        services.application_approve(
            application=fresh(application),
            actor=reviewer,
            start_date=plan.start_date,
            confirmation=plan.confirmation,
        )
    assert stale.value.code == "stale_confirmation"
    assert fresh(application).status == ApplicationStatus.UNDER_REVIEW
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_a_stale_confirmation_is_refused_when_the_application_changed(reviewer, approver):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    plan = services.approval_plan(application=fresh(application), actor=reviewer)
    # given back and taken again by someone else since
    services.application_release(application=application, actor=reviewer)
    services.application_take(application=application, actor=approver)
    with pytest.raises(DomainError) as stale:
        services.application_approve(
            application=fresh(application),
            actor=approver,
            start_date=plan.start_date,
            confirmation=plan.confirmation,
        )
    assert stale.value.code == "stale_confirmation"
    # or a different date than the confirmed one
    plan = services.approval_plan(application=fresh(application), actor=approver)
    with pytest.raises(DomainError):
        services.application_approve(
            application=fresh(application), actor=approver, start_date=CALM, confirmation=plan.confirmation
        )
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_the_confirmation_screen_then_the_commit(staff_client, reviewer):
    application = submitted_application(methods=("interactive", "netnaccs"))
    services.application_take(application=application, actor=reviewer)
    confirm = staff_client.get(
        reverse("reviews:approve-confirm", kwargs={"pk": application.pk}),
        {"start_date": BEYOND_WINDOW.isoformat(), "seen_status": "under_review"},
    )
    page = Page(confirm)
    assert page.screen == "staff-approve-confirm"
    assert len([row for row in page.root.find_all("tr") if "data-planned-id" in row.attrs]) == 2
    assert page.buttons().count("承認する（IDを払い出す）") == 1
    assert len(page.root.find_all("li", **{"data-approval-warning": ""})) == 2
    assert "NACCSのご利用は2027年2月17日から可能です。" in page.text
    assert fresh(application).status == ApplicationStatus.UNDER_REVIEW
    assert not NaccsUserId.objects.filter(issued_by=application).exists()

    response = approve_on_screens(staff_client, application, start_date=BEYOND_WINDOW)
    assert "承認しました。2件の利用者IDを払い出しました。" in Page(response).page_errors()
    assert fresh(application).start_date == BEYOND_WINDOW


def test_approval_without_a_confirmation_is_refused(staff_client, reviewer):
    application = submitted_application()
    services.application_take(application=application, actor=reviewer)
    response = staff_client.post(
        reverse("reviews:approve", kwargs={"pk": application.pk}),
        {"start_date": application.desired_start_date.isoformat(), "seen_status": "under_review"},
        follow=True,
    )
    assert "承認内容を確認してから承認してください。" in Page(response).page_errors()
    assert fresh(application).status == ApplicationStatus.UNDER_REVIEW


# --- 利用開始日を変更する ------------------------------------------------------------------------------------


def test_changing_the_start_date_moves_the_ids_posts_the_notice_and_queues_the_email(reviewer):
    application = approved(submitted_application(methods=("interactive", "netnaccs")), reviewer)
    old = application.start_date
    new = D(2026, 11, 25)
    services.application_start_date_change(
        application=application,
        actor=reviewer,
        start_date=new,
        reason="お客様から電話で依頼",
        seen_start_date=old,
    )
    application = fresh(application)
    assert application.start_date == new
    assert set(NaccsUserId.objects.filter(issued_by=application).values_list("start_date", flat=True)) == {
        new
    }
    notice = ProgressNotice.objects.filter(application=application).order_by("-pk").first()
    assert notice.text == "NACCSのご利用は2026年11月25日から可能です。"
    email = Email.objects.filter(kind="application_start_date_changed", topic_id=application.pk).get()
    assert email.subject.startswith("【NSS】利用開始日変更のお知らせ")
    assert "2026年11月25日" in email.body_text and "2026年11月18日" in email.body_text
    assert email.to == application.applicant_email
    [entry] = entries(application, "application_start_date_change")
    assert entry.changes_dict == {"start_date": [str(old), str(new)]}
    assert entry.additional_data["reason"] == "お客様から電話で依頼"


def test_the_utb_gateway_follows_the_new_date(reviewer):
    application = approved(submitted_application(), reviewer)
    [naccs_id] = NaccsUserId.objects.filter(issued_by=application)
    old = naccs_id.start_date
    assert naccs_id_login_refusal(naccs_id, today=old) is None
    services.application_start_date_change(
        application=application, actor=reviewer, start_date=D(2026, 11, 26), reason="延期"
    )
    naccs_id.refresh_from_db()
    assert naccs_id_login_refusal(naccs_id, today=old) is not None  # refused on the old day now
    assert naccs_id_login_refusal(naccs_id, today=D(2026, 11, 26)) is None


@pytest.mark.parametrize(
    ("day", "reason", "field"),
    [
        (D(2026, 11, 23), "祝日を指定", "start_date"),  # 勤労感謝の日
        (D(2026, 11, 16), "今日", "start_date"),
        (D(2026, 11, 18), "同じ日", "start_date"),  # the current one
        (D(2026, 11, 25), "   ", "reason"),
    ],
)
def test_start_date_change_refusals_change_nothing(reviewer, day, reason, field):
    application = approved(submitted_application(), reviewer)
    with pytest.raises(DomainError) as refused:
        services.application_start_date_change(
            application=application, actor=reviewer, start_date=day, reason=reason
        )
    assert refused.value.field == field
    assert fresh(application).start_date == D(2026, 11, 18)
    assert not Email.objects.filter(kind="application_start_date_changed").exists()
    assert entries(application, "application_start_date_change") == []


def test_start_date_change_only_before_the_start_date_and_only_after_approval(reviewer, frozen_clock):
    open_one = submitted_application()
    with pytest.raises(DomainError) as not_approved:
        services.application_start_date_change(
            application=open_one, actor=reviewer, start_date=D(2026, 11, 25), reason="x"
        )
    assert not_approved.value.code == "illegal_transition"
    application = approved(submitted_application(), reviewer)
    frozen_clock.move_to(datetime.datetime(2026, 11, 18, 9, 0, tzinfo=clock.JST))  # the start date has come
    with pytest.raises(DomainError) as started:
        services.application_start_date_change(
            application=application, actor=reviewer, start_date=D(2026, 11, 25), reason="x"
        )
    assert started.value.code == "started"


def test_start_date_change_refuses_a_stale_page_and_follows_four_eyes(reviewer, approver, settings):
    application = approved(submitted_application(), reviewer)
    services.application_start_date_change(
        application=application, actor=reviewer, start_date=D(2026, 11, 25), reason="一度目"
    )
    with pytest.raises(DomainError) as stale:
        services.application_start_date_change(
            application=application,
            actor=reviewer,
            start_date=D(2026, 11, 26),
            reason="古い画面から",
            seen_start_date=D(2026, 11, 18),
        )
    assert stale.value.code == "stale"
    settings.NSS_FOUR_EYES = True
    with pytest.raises(DomainError) as four_eyes:
        services.application_start_date_change(
            application=application, actor=reviewer, start_date=D(2026, 11, 26), reason="x"
        )
    assert four_eyes.value.code.startswith("four_eyes")
    assert fresh(application).start_date == D(2026, 11, 25)


def test_start_date_change_through_the_screen(staff_client, reviewer):
    application = approved(submitted_application(), reviewer)
    page = Page(staff_client.get(detail_url(application)))
    assert "利用開始日を変更する" in page.buttons()
    url = reverse("reviews:start-date", kwargs={"pk": application.pk})
    bad = staff_client.post(
        url, {"start_date": "2026-11-23", "reason": "祝日", "seen_start_date": "2026-11-18"}
    )
    assert bad.status_code == 200
    assert "営業日ではありません" in Page(bad).field_errors("start_date")
    good = staff_client.post(
        url,
        {"start_date": "2026-11-25", "reason": "お客様の依頼", "seen_start_date": "2026-11-18"},
        follow=True,
    )
    assert "利用開始日を2026年11月25日に変更しました。" in Page(good).page_errors()
    assert fresh(application).start_date == D(2026, 11, 25)


# --- bulk take ----------------------------------------------------------------------------------------------


def test_bulk_take_reports_each_row_and_takes_each_on_its_own(staff_client, reviewer):
    free = submitted_application()
    also_free = submitted_application()
    held = submitted_application()
    holder = staff_in("reviewer", username="kato-reviewer")
    services.application_take(application=held, actor=holder)
    decided = approved(submitted_application(), holder)
    response = staff_client.post(
        reverse("reviews:bulk-take"),
        {"applications": [free.pk, held.pk, also_free.pk, decided.pk, 999_999_999]},
    )
    page = Page(response)
    assert page.screen == "staff-bulk-take"
    rows = [row for row in page.root.find_all("tr") if "data-bulk-result" in row.attrs]
    assert [row.attrs["data-bulk-result"] for row in rows] == [
        "taken",
        "refused",
        "taken",
        "refused",
        "refused",
    ]
    assert "kato-reviewerが担当しています。" in rows[1].text
    assert "「審査終了」" in rows[3].text
    assert "申込が見つかりません。" in rows[4].text
    assert "担当した申込：2件、担当できなかった申込：3件" in page.text
    assert fresh(free).reviewer == reviewer and fresh(also_free).reviewer == reviewer
    assert fresh(held).reviewer == holder


def test_bulk_take_with_nothing_ticked_or_garbage_says_so(staff_client):
    response = staff_client.post(reverse("reviews:bulk-take"), {}, follow=True)
    assert "担当する申込を選択してください。" in Page(response).page_errors()
    response = staff_client.post(reverse("reviews:bulk-take"), {"applications": ["1 OR 1=1"]}, follow=True)
    assert "選択された申込が正しくありません。" in Page(response).page_errors()


def test_bulk_take_is_bounded(reviewer):
    with pytest.raises(DomainError) as too_many:
        services.applications_bulk_take(application_ids=range(1, 52), actor=reviewer)
    assert too_many.value.code == "too_many"


# --- internal notes -----------------------------------------------------------------------------------------


def test_a_note_is_for_staff_only_and_audited(staff_client, reviewer, client):
    application = submitted_application()
    response = staff_client.post(
        reverse("reviews:note", kwargs={"pk": application.pk}), {"note": "先方に電話で確認済み"}, follow=True
    )
    page = Page(response)
    assert "メモを追加しました。" in page.page_errors()
    [note] = page.root.find_all("li", **{"data-internal-note": ""})
    assert "先方に電話で確認済み" in note.text and reviewer.username in note.text
    assert InternalNote.objects.get().author == reviewer
    [entry] = entries(application, "internal_note_add")
    assert entry.additional_data["note"] == "先方に電話で確認済み"
    # the customer's pages never show it
    client.force_login(application.created_by)
    for name in ("applications:application-detail", "applications:complete"):
        html = client.get(reverse(name, kwargs={"pk": application.pk})).content.decode()
        assert "先方に電話で確認済み" not in html


def test_an_empty_note_is_refused_next_to_the_field(staff_client):
    application = submitted_application()
    response = staff_client.post(reverse("reviews:note", kwargs={"pk": application.pk}), {"note": "  "})
    assert response.status_code == 200
    assert Page(response).field_errors("note").strip()
    assert not InternalNote.objects.exists()
