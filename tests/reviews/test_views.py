"""The staff workplace under /staff/ (SPEC §4), driven through its pages: the queue (filters, search, overdue marks,
keyset pages, constant query counts) and one application's page with its actions (take, approve, reject, notices,
stale pages, four-eyes, the audit trail, no initial password on screen)."""

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from applications import clock, crypto, rules
from applications.models import ApplicationStatus, NaccsUserId, ProgressNotice
from reviews import services as review_services
from tests.factories import (
    HOLIDAY,
    ContractFactory,
    DraftFactory,
    approve_on_screens,
    identifiers_exhaust,
    otp_login,
    staff_with_device,
    submitted_application,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# Submitted at FROZEN_AT (Mon 11/16), an application is due an answer on Tue 11/17 and overdue from Wed 11/18.
TWO_BUSINESS_DAYS_LATER = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=clock.JST)


def queue_url(**params) -> str:
    return reverse("reviews:queue") + (f"?{urlencode(params)}" if params else "")


def detail_url(application) -> str:
    return reverse("reviews:application", kwargs={"pk": application.pk})


def queue_rows(response) -> list[str]:
    page = Page(response)
    return [
        row.attrs["data-reception-number"]
        for row in page.root.find_all("tr")
        if "data-reception-number" in row.attrs
    ]


def queue_row(response, reception_number):
    page = Page(response)
    return next(
        row for row in page.root.find_all("tr") if row.attrs.get("data-reception-number") == reception_number
    )


def next_link(response):
    links = [a for a in Page(response).root.find_all("a") if a.text == "次へ"]
    assert len(links) <= 1
    return links[0].attrs["href"] if links else None


def take(application, actor):
    return review_services.application_take(application=application, actor=actor)


# --- the queue -------------------------------------------------------------------------------------


def test_queue_screen_lists_open_applications_oldest_first(frozen_clock, staff_client, reviewer):
    first = submitted_application()
    frozen_clock.shift(datetime.timedelta(minutes=5))
    second = submitted_application()
    frozen_clock.shift(datetime.timedelta(minutes=5))
    third = submitted_application()
    response = staff_client.get(queue_url())
    assert response.status_code == 200
    assert Page(response).screen == "staff-queue"
    assert queue_rows(response) == [first.reception_number, second.reception_number, third.reception_number]


def test_queue_default_shows_only_submitted_and_under_review(staff_client, reviewer, approver):
    submitted = submitted_application()
    under_review = take(submitted_application(), reviewer)
    approved = take(submitted_application(), reviewer)
    review_services.application_approve(application=approved, actor=approver)
    rejected = take(submitted_application(), reviewer)
    review_services.application_reject(application=rejected, actor=reviewer, reason="書類不備")
    DraftFactory()

    rows = queue_rows(staff_client.get(queue_url()))
    assert rows == [submitted.reception_number, under_review.reception_number]

    everything = queue_rows(staff_client.get(queue_url(status="")))
    assert set(everything) == {
        submitted.reception_number,
        under_review.reception_number,
        approved.reception_number,
        rejected.reception_number,
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("submitted", "submitted"),
        ("under_review", "under_review"),
        ("approved", "approved"),
        ("rejected", "rejected"),
    ],
)
def test_queue_filters_by_status(staff_client, reviewer, approver, status, expected):
    apps = {"submitted": submitted_application(), "under_review": take(submitted_application(), reviewer)}
    apps["approved"] = take(submitted_application(), reviewer)
    review_services.application_approve(application=apps["approved"], actor=approver)
    apps["rejected"] = take(submitted_application(), reviewer)
    review_services.application_reject(application=apps["rejected"], actor=reviewer, reason="書類不備")
    assert queue_rows(staff_client.get(queue_url(status=status))) == [apps[expected].reception_number]


def test_queue_filters_by_processing_method_of_any_item(staff_client):
    interactive_only = submitted_application(methods=("interactive",))
    mixed = submitted_application(methods=("interactive", "netnaccs"))
    netnaccs_only = submitted_application(methods=("netnaccs",))
    assert queue_rows(staff_client.get(queue_url(method="netnaccs"))) == [
        mixed.reception_number,
        netnaccs_only.reception_number,
    ]
    assert queue_rows(staff_client.get(queue_url(method="interactive"))) == [
        interactive_only.reception_number,
        mixed.reception_number,
    ]


def test_overdue_only_filter_and_marks(frozen_clock, client):
    overdue = submitted_application()
    overdue_taken = submitted_application()
    frozen_clock.move_to(TWO_BUSINESS_DAYS_LATER)
    fresh = submitted_application()
    reviewer = staff_with_device("reviewer")
    take(overdue_taken, reviewer)
    staff_client = otp_login(client, reviewer)

    all_rows = staff_client.get(queue_url())
    assert queue_rows(all_rows) == [
        overdue.reception_number,
        overdue_taken.reception_number,
        fresh.reception_number,
    ]
    for late in (overdue, overdue_taken):
        row = queue_row(all_rows, late.reception_number)
        assert "data-overdue" in row.attrs
        assert "超過" in row.text
    fresh_row = queue_row(all_rows, fresh.reception_number)
    assert "data-overdue" not in fresh_row.attrs
    assert "超過" not in fresh_row.text

    only_overdue = staff_client.get(queue_url(overdue="on"))
    assert queue_rows(only_overdue) == [overdue.reception_number, overdue_taken.reception_number]


def test_overdue_filter_on_the_answer_due_day_itself_shows_nothing(frozen_clock, client):
    submitted_application()
    frozen_clock.move_to(datetime.datetime(2026, 11, 17, 10, 0, tzinfo=clock.JST))
    staff_client = otp_login(client, staff_with_device("reviewer"))
    assert queue_rows(staff_client.get(queue_url(overdue="on"))) == []


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("transform", [str, str.lower, _fullwidth, lambda s: f"  {s.lower()} "])
def test_queue_search_by_reception_number(staff_client, transform):
    wanted = submitted_application()
    submitted_application()
    rows = queue_rows(staff_client.get(queue_url(q=transform(wanted.reception_number))))
    assert rows == [wanted.reception_number]


@pytest.mark.parametrize("transform", [str, _fullwidth])
def test_queue_search_by_the_seven_digits_without_the_check_letter(staff_client, transform):
    wanted = submitted_application()
    submitted_application()
    rows = queue_rows(staff_client.get(queue_url(q=transform(wanted.reception_number[:7]))))
    assert rows == [wanted.reception_number]


def test_queue_search_with_a_wrong_check_letter_names_it_next_to_the_field(staff_client):
    from applications.reception_numbers import CHECK_ALPHABET

    wanted = submitted_application()
    digits, letter = wanted.reception_number[:7], wanted.reception_number[7]
    wrong = next(c for c in CHECK_ALPHABET if c != letter)
    response = staff_client.get(queue_url(q=f"{digits}{wrong.lower()}"))
    assert response.status_code == 200
    page = Page(response)
    assert queue_rows(response) == []
    assert page.field_errors("q") == (
        f"申込受付番号 {digits}{wrong} のチェック文字「{wrong}」が違います（{digits} のチェック文字は「{letter}」です）。"
    )
    assert "該当する申込はありません。" not in page.text  # the search was not run: not "nothing found"


@pytest.mark.parametrize("transform", [str, str.lower, _fullwidth])
def test_queue_search_by_user_code(staff_client, transform):
    contract = ContractFactory(user_code="7QZRX")
    first = submitted_application(contract=contract)
    submitted_application()
    rows = queue_rows(staff_client.get(queue_url(q=transform("7QZRX"))))
    assert rows == [first.reception_number]


def test_queue_search_by_part_of_the_company_name(staff_client):
    wanted = submitted_application(contract=ContractFactory(company_name="みなと海運通関株式会社"))
    also = submitted_application(contract=ContractFactory(company_name="南みなと海運"))
    submitted_application(contract=ContractFactory(company_name="さくら物流株式会社"))
    rows = queue_rows(staff_client.get(queue_url(q="みなと海運")))
    assert rows == [wanted.reception_number, also.reception_number]


def test_queue_search_with_no_match_shows_the_empty_message(staff_client):
    submitted_application()
    response = staff_client.get(queue_url(q="存在しない会社"))
    assert queue_rows(response) == []
    assert "該当する申込はありません。" in Page(response).text


def test_keyset_pagination_walks_120_applications_in_order_without_gap_or_overlap(frozen_clock, staff_client):
    expected = []
    contract = ContractFactory()
    for index in range(120):
        if index % 7 == 0:  # several applications share one submission instant: the pk breaks the tie
            frozen_clock.shift(datetime.timedelta(minutes=1))
        expected.append(submitted_application(contract=contract).reception_number)

    first = staff_client.get(queue_url())
    assert queue_rows(first) == expected[:50]
    href = next_link(first)
    assert href

    second = staff_client.get(reverse("reviews:queue") + href)
    assert queue_rows(second) == expected[50:100]
    href = next_link(second)
    assert href

    third = staff_client.get(reverse("reviews:queue") + href)
    assert queue_rows(third) == expected[100:]
    assert len(queue_rows(third)) == 20
    assert next_link(third) is None
    assert "先頭へ" in Page(third).text


def test_next_link_keeps_the_filters(staff_client):
    contract = ContractFactory(company_name="ページ送り通関")
    expected = [submitted_application(contract=contract).reception_number for _ in range(51)]
    submitted_application()  # another company, never shown
    first = staff_client.get(queue_url(q="ページ送り"))
    assert queue_rows(first) == expected[:50]
    second = staff_client.get(reverse("reviews:queue") + next_link(first))
    assert queue_rows(second) == expected[50:]


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "|",
        "2026-13-45T99:00|x",
        "|||",
        "%00",
        "9999999999999999999999|1",
        "2026-11-16T00:00:00+00:00|-1",
    ],
)
def test_a_garbage_cursor_is_ignored(staff_client, garbage):
    application = submitted_application()
    response = staff_client.get(queue_url(after=garbage))
    assert response.status_code == 200
    assert queue_rows(response) == [application.reception_number]


def test_a_cursor_past_everything_is_an_empty_page_not_an_error(staff_client):
    submitted_application()
    response = staff_client.get(queue_url(after="submitted|2026-11-16T01:00:00+00:00|4611686018427387904"))
    assert response.status_code == 200
    assert queue_rows(response) == []
    assert "該当する申込はありません。" in Page(response).text


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_cursor_with_a_naive_timestamp_is_ignored(staff_client):
    application = submitted_application()
    response = staff_client.get(queue_url(after="submitted|2026-11-16T00:00:00|1"))
    assert response.status_code == 200
    assert queue_rows(response) == [application.reception_number]


# --- one application's page -----------------------------------------------------------------------


def test_application_page_of_a_submitted_application_offers_take_only(staff_client):
    application = submitted_application()
    response = staff_client.get(detail_url(application))
    page = Page(response)
    assert response.status_code == 200
    assert page.screen == "staff-application"
    assert application.reception_number in page.text
    assert "担当する" in page.buttons()
    assert "承認する（IDを払い出す）" not in page.buttons()
    assert "不受理にする" not in page.buttons()


def test_application_page_under_review_offers_approve_and_reject(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    page = Page(staff_client.get(detail_url(application)))
    assert "担当する" not in page.buttons()
    # approval is in two steps (SPEC §8): the page offers the look first, never the commit
    assert page.buttons().count("承認内容を確認する") == 1
    assert "承認する（IDを払い出す）" not in page.buttons()
    assert page.buttons().count("不受理にする") == 1
    # the start date offered is the desired date (still qualifying)
    assert page.value_of("start_date") == application.desired_start_date.isoformat()
    assert page.value_of("seen_status") == ApplicationStatus.UNDER_REVIEW


def test_audit_trail_shows_actors_and_japanese_labels_in_order(
    frozen_clock, staff_client, reviewer, approver
):
    application = submitted_application()
    frozen_clock.shift(datetime.timedelta(minutes=1))
    take(application, reviewer)
    frozen_clock.shift(datetime.timedelta(minutes=1))
    review_services.application_approve(application=application, actor=approver)

    page = Page(staff_client.get(detail_url(application)))
    entries = [li for li in page.root.by_id("audit-trail").find_all("li") if "data-audit-action" in li.attrs]
    assert [li.attrs["data-audit-action"] for li in entries] == [
        "application_submit",
        "application_take",
        "application_approve",
    ]
    labels = [li.find_all("strong")[0].text for li in entries]
    assert labels == ["申込（受付）", "担当", "承認・ID払出し"]
    assert application.created_by.username in entries[0].text
    assert reviewer.username in entries[1].text
    assert approver.username in entries[2].text


def test_take_moves_to_under_review_with_a_message(staff_client, reviewer):
    application = submitted_application()
    response = staff_client.post(reverse("reviews:take", kwargs={"pk": application.pk}), follow=True)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert application.reviewer == reviewer
    assert response.redirect_chain[-1][0] == detail_url(application)
    page = Page(response)
    assert "この申込を担当しました。" in page.page_errors()
    assert "承認内容を確認する" in page.buttons()


def test_taking_twice_is_refused_with_a_message(staff_client, reviewer):
    other = staff_with_device("reviewer")
    application = take(submitted_application(), other)
    response = staff_client.post(reverse("reviews:take", kwargs={"pk": application.pk}), follow=True)
    application.refresh_from_db()
    assert application.reviewer == other
    assert "この申込を担当しました。" not in Page(response).page_errors()
    assert Page(response).page_errors().strip()


def test_approve_on_a_holiday_shows_the_error_next_to_start_date_and_issues_nothing(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    response = approve_on_screens(staff_client, application, start_date=HOLIDAY)
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "staff-application"
    assert "営業日ではありません" in page.field_errors("start_date")
    assert page.value_of("start_date") == HOLIDAY.isoformat()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert application.start_date is None
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_approve_with_a_malformed_date_shows_the_field_error(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    response = approve_on_screens(staff_client, application, start_date="来週")
    assert "利用開始日は年-月-日" in Page(response).field_errors("start_date")
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_approve_issues_ids_and_says_so(staff_client, reviewer):
    application = take(
        submitted_application(methods=("interactive", "netnaccs"), identifiers=["K12", ""]), reviewer
    )
    response = approve_on_screens(staff_client, application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.start_date == application.desired_start_date
    issued = list(NaccsUserId.objects.filter(issued_by=application))
    assert len(issued) == 2
    assert "K12" in {naccs_id.identifier for naccs_id in issued}
    page = Page(response)
    assert "承認しました。2件の利用者IDを払い出しました。" in page.page_errors()
    shown = [li.text for li in page.root.find_all("li", **{"data-issued-id": ""})]
    assert len(shown) == 2
    assert any(f"{application.contract.user_code}K12" in text for text in shown)
    assert "この申込の審査は終了しています。" in page.text


def test_no_initial_password_appears_on_the_staff_application_page(staff_client, reviewer):
    application = take(submitted_application(methods=("interactive", "netnaccs", "interactive")), reviewer)
    approve_on_screens(staff_client, application)
    passwords = [
        crypto.decrypt(n.initial_password_encrypted)
        for n in NaccsUserId.objects.filter(issued_by=application)
    ]
    assert len(passwords) == 3 and all(passwords)
    html = staff_client.get(detail_url(application)).content.decode()
    for password in passwords:
        assert password not in html
    queue_html = staff_client.get(queue_url(status="")).content.decode()
    for password in passwords:
        assert password not in queue_html


def test_reject_with_an_empty_reason_shows_the_field_error(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    response = staff_client.post(
        reverse("reviews:reject", kwargs={"pk": application.pk}),
        {"reason": "   ", "seen_status": ApplicationStatus.UNDER_REVIEW},
    )
    assert response.status_code == 200
    assert Page(response).field_errors("reason").strip()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert application.rejection_reason == ""


def test_reject_sets_rejected_with_the_reason(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    response = staff_client.post(
        reverse("reviews:reject", kwargs={"pk": application.pk}),
        {"reason": "通関士の資格を確認できませんでした。", "seen_status": ApplicationStatus.UNDER_REVIEW},
        follow=True,
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.rejection_reason == "通関士の資格を確認できませんでした。"
    assert application.decided_by == reviewer
    page = Page(response)
    assert "不受理にしました。" in page.page_errors()
    assert "通関士の資格を確認できませんでした。" in page.text
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_notice_post_is_shown_on_the_page(staff_client, reviewer):
    application = submitted_application()
    response = staff_client.post(
        reverse("reviews:notice", kwargs={"pk": application.pk}),
        {"text": "書類を確認しています。"},
        follow=True,
    )
    page = Page(response)
    assert "進行状況を通知しました。" in page.page_errors()
    assert "書類を確認しています。" in page.text
    notice = ProgressNotice.objects.get(application=application)
    assert notice.posted_by == reviewer


def test_an_empty_notice_shows_the_field_error_and_posts_nothing(staff_client):
    application = submitted_application()
    response = staff_client.post(reverse("reviews:notice", kwargs={"pk": application.pk}), {"text": ""})
    assert response.status_code == 200
    assert Page(response).field_errors("text").strip()
    assert not ProgressNotice.objects.filter(application=application).exists()


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_stale_page_is_told_it_was_updated_by_someone_else(staff_client, reviewer, action):
    application = take(submitted_application(), reviewer)
    # the page was rendered while 内容確認中 …
    page = Page(staff_client.get(detail_url(application)))
    seen = page.value_of("seen_status")
    assert seen == ApplicationStatus.UNDER_REVIEW
    # … then another staff member rejected it
    other = staff_with_device("reviewer")
    review_services.application_reject(application=application, actor=other, reason="他の担当者の判断")
    data = {"seen_status": seen, "start_date": application.desired_start_date.isoformat(), "reason": "重複"}
    if action == "approve":  # its first step, 承認内容を確認する, already says so
        response = staff_client.get(
            reverse("reviews:approve-confirm", kwargs={"pk": application.pk}), data, follow=True
        )
    else:
        response = staff_client.post(
            reverse(f"reviews:{action}", kwargs={"pk": application.pk}), data, follow=True
        )
    assert "他の担当者により「不受理」に更新されています" in Page(response).page_errors()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.decided_by == other
    assert application.rejection_reason == "他の担当者の判断"
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


@pytest.fixture
def four_eyes(settings):
    settings.NSS_FOUR_EYES = True


def _approve(client, application):
    return approve_on_screens(client, application)


def test_four_eyes_refuses_the_reviewer_who_took_it(four_eyes, staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    response = _approve(staff_client, application)
    assert "4つの目の原則" in Page(response).page_errors()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_four_eyes_refuses_an_approver_who_took_it_himself(four_eyes, approver_client, approver):
    application = take(submitted_application(), approver)
    response = _approve(approver_client, application)
    assert "この申込を担当した審査担当者は承認できません" in Page(response).page_errors()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_four_eyes_lets_another_approver_approve(four_eyes, approver_client, reviewer, approver):
    application = take(submitted_application(), reviewer)
    response = _approve(approver_client, application)
    assert "承認しました。1件の利用者IDを払い出しました。" in Page(response).page_errors()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_by == approver


def test_with_four_eyes_the_page_of_the_reviewer_who_took_it_offers_reject_and_says_why_not_approve(
    four_eyes, staff_client, reviewer
):
    application = take(submitted_application(), reviewer)
    page = Page(staff_client.get(detail_url(application)))
    assert "承認内容を確認する" not in page.buttons()
    assert page.buttons().count("不受理にする") == 1
    assert "通知する" in page.buttons()
    (reason,) = page.root.find_all(**{"data-field": "approve-refusal"})
    assert reason.text == "承認には承認者の権限が必要です（4つの目の原則）。"


def test_with_four_eyes_the_page_of_another_approver_offers_approve_and_reject(
    four_eyes, approver_client, reviewer
):
    application = take(submitted_application(), reviewer)
    page = Page(approver_client.get(detail_url(application)))
    assert page.buttons().count("承認内容を確認する") == 1
    assert page.buttons().count("不受理にする") == 1
    assert page.root.find_all(**{"data-field": "approve-refusal"}) == []


def test_without_four_eyes_the_reviewer_who_took_it_may_approve(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    _approve(staff_client, application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_approval_once_the_contract_has_no_identifier_left_is_refused_with_a_message(staff_client, reviewer):
    application = take(submitted_application(), reviewer)
    identifiers_exhaust(application.contract)
    response = _approve(staff_client, application)
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "staff-application"
    assert "払い出せる識別番号が残っていない" in page.page_errors()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not NaccsUserId.objects.filter(issued_by=application).exists()


def test_drafts_are_404_on_the_staff_application_page(staff_client):
    draft = DraftFactory(desired_start_date=rules.earliest_start_date(clock.today()))
    assert staff_client.get(detail_url(draft)).status_code == 404
    for action in ("take", "approve", "reject", "notice"):
        response = staff_client.post(
            reverse(f"reviews:{action}", kwargs={"pk": draft.pk}),
            {"reason": "x", "text": "x", "seen_status": "draft", "start_date": HOLIDAY.isoformat()},
        )
        assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert not ProgressNotice.objects.filter(application=draft).exists()


def test_unknown_application_is_404(staff_client):
    assert staff_client.get(reverse("reviews:application", kwargs={"pk": 999999})).status_code == 404
