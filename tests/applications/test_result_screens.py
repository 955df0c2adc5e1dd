"""Screens 9 (申込詳細) and 10 (ID通知内容) of SPEC §3: the 申込結果 and 進行状況 the customer reads,
and the issued 利用者IDs with their initial passwords — only for the own office's approved application,
audited, never cached, and with a query count that does not grow with the number of IDs or notices.

Approved applications are made the way production makes them: application_submit, then the reviewer's
application_take and application_approve (reviews/services.py)."""

import datetime
import itertools

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from applications import clock, crypto, services
from applications.models import Application, ApplicationStatus, NaccsUserId, ProgressNotice
from reviews import services as review_services
from tests.factories import DraftFactory
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

# Submitted at FROZEN_AT (Monday 2026-11-16), the desired date two business days on is Wednesday 2026-11-18;
# 2026-11-23 is 勤労感謝の日, so the next business day after the 20th is Tuesday 2026-11-24.
DESIRED = datetime.date(2026, 11, 18)
LATER = datetime.date(2026, 11, 24)


@pytest.fixture
def known_passwords(monkeypatch):
    """Approval generates PW000001, PW000002, … so that a test knows what the page must show."""
    counter = itertools.count(1)
    monkeypatch.setattr("applications.passwords.generate_initial_password", lambda: f"PW{next(counter):06d}")


def submitted(customer, *, ids: int = 1) -> Application:
    draft = DraftFactory(
        contract=customer.contract, created_by=customer, desired_start_date=DESIRED, items=ids
    )
    return services.application_submit(application=draft)


def approved(customer, reviewer, *, ids: int = 1, start_date: datetime.date | None = None) -> Application:
    application = submitted(customer, ids=ids)
    review_services.application_take(application=application, actor=reviewer)
    review_services.application_approve(application=application, actor=reviewer, start_date=start_date)
    application.refresh_from_db()
    return application


def rejected(customer, reviewer, *, reason: str) -> Application:
    application = submitted(customer)
    review_services.application_take(application=application, actor=reviewer)
    return review_services.application_reject(application=application, actor=reviewer, reason=reason)


def not_approved(customer, reviewer, state: str) -> Application:
    """An application left submitted, under review or rejected."""
    if state == "rejected":
        return rejected(customer, reviewer, reason="理由")
    application = submitted(customer)
    if state == "under_review":
        review_services.application_take(application=application, actor=reviewer)
    return application


def detail_url(application) -> str:
    return reverse("applications:application-detail", kwargs={"pk": application.pk})


def notice_url(application) -> str:
    return reverse("applications:id-notice", kwargs={"pk": application.pk})


def field(page: Page, name: str) -> str:
    nodes = page.root.find_all(**{"data-field": name})
    assert nodes, f"no data-field={name!r} on the page"
    return nodes[0].text


def notice_rows(page: Page) -> list[list[str]]:
    return [
        [cell.text for cell in row.find_all("td")]
        for row in page.root.find_all("tr")
        if "data-notice" in row.attrs
    ]


def issued_rows(page: Page) -> dict[str, list[str]]:
    table = page.root.by_id("issued-ids")
    assert table is not None, "no issued-ids table"
    return {
        row.attrs["data-issued-id"]: [cell.text for cell in row.find_all("td")]
        for row in table.find_all("tr")
        if "data-issued-id" in row.attrs
    }


# --- screen 9: 申込詳細 ----------------------------------------


def test_detail_of_a_submitted_application_shows_its_status_and_no_start_date_yet(customer_client, customer):
    application = submitted(customer)

    page = Page(customer_client.get(detail_url(application)))

    assert page.screen == "application-detail"
    assert field(page, "status") == "受付"
    assert field(page, "start_date") == "未確定"
    assert field(page, "no_notices") == "通知はありません。"
    assert page.href_of("戻る") == reverse("applications:application-list")
    assert "ID通知内容" not in page.links()


def test_detail_of_an_approved_application_shows_the_confirmed_start_date_without_highlight_when_as_desired(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    page = Page(customer_client.get(detail_url(application)))

    assert field(page, "status") == "審査終了"
    assert field(page, "start_date") == "2026年11月18日"
    assert not page.root.find_all(**{"data-field": "start_date_note"})
    assert not [node for node in page.root.iter() if "nss-differs" in node.classes]


def test_detail_highlights_a_start_date_that_differs_from_the_desired_one_with_a_text_note(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer, start_date=LATER)

    page = Page(customer_client.get(detail_url(application)))

    start = page.root.find_all(**{"data-field": "start_date"})[0]
    highlighted = [node for node in start.iter() if "nss-differs" in node.classes]
    assert [node.text for node in highlighted] == ["2026年11月24日"]
    # Not colour alone: a visible sentence says it.
    assert "ご希望の日（2026年11月18日）と異なります" in field(page, "start_date_note")
    # The automatic notice of reviews.services.application_approve is in 進行状況.
    assert [row[1] for row in notice_rows(page)] == ["NACCSのご利用は11月24日から可能です。"]


def test_detail_lists_progress_notices_newest_first_with_japanese_dates(customer_client, customer, reviewer):
    application = approved(customer, reviewer)
    # Inserted out of date order, so that the order on the page can only come from the notice date.
    ProgressNotice.objects.create(
        application=application,
        text="新しい通知",
        posted_at=datetime.datetime(2026, 11, 17, 9, 0, tzinfo=clock.JST),
    )
    ProgressNotice.objects.create(
        application=application,
        text="古い通知",
        posted_at=datetime.datetime(2026, 11, 16, 23, 30, tzinfo=clock.JST),
    )

    page = Page(customer_client.get(detail_url(application)))

    assert notice_rows(page) == [["2026年11月17日", "新しい通知"], ["2026年11月16日", "古い通知"]]
    assert not page.root.find_all(**{"data-field": "no_notices"})


def test_detail_of_a_rejected_application_shows_the_reason_and_no_id_notice(
    customer_client, customer, reviewer
):
    application = rejected(customer, reviewer, reason="識別番号の指定に誤りがあります。")

    page = Page(customer_client.get(detail_url(application)))

    assert field(page, "status") == "不受理"
    assert field(page, "rejection_reason") == "識別番号の指定に誤りがあります。"
    assert "ID通知内容" not in page.links()


def test_detail_shows_the_ids_asked(customer_client, customer):
    application = submitted(customer, ids=2)

    page = Page(customer_client.get(detail_url(application)))

    assert [row[3] for row in page.item_rows()] == ["通関 士0", "通関 士1"]


@pytest.mark.parametrize("state", ["submitted", "under_review", "rejected"])
def test_id_notice_button_is_absent_until_approved(customer_client, customer, reviewer, state):
    application = not_approved(customer, reviewer, state)

    page = Page(customer_client.get(detail_url(application)))

    assert "ID通知内容" not in page.links()
    assert notice_url(application) not in page.html


def test_id_notice_button_of_an_approved_application_is_a_link_to_screen_10(
    customer_client, customer, reviewer
):
    application = approved(customer, reviewer)

    page = Page(customer_client.get(detail_url(application)))

    assert page.href_of("ID通知内容") == notice_url(application)
    assert "btn" in page.link("ID通知内容").classes
    assert page.href_of("戻る") == reverse("applications:application-list")


# --- screen 10: ID通知内容 -------------------------------------


def test_id_notice_shows_every_issued_id_with_its_initial_password(
    customer_client, customer, reviewer, known_passwords
):
    application = approved(customer, reviewer, ids=3, start_date=LATER)
    issued = list(NaccsUserId.objects.filter(issued_by=application).order_by("identifier"))

    response = customer_client.get(notice_url(application))
    page = Page(response)

    assert response.status_code == 200
    assert page.screen == "id-notice"
    rows = issued_rows(page)
    code = customer.contract.user_code
    assert sorted(rows) == sorted(f"{code}{naccs_id.identifier}" for naccs_id in issued)
    passwords_shown = {row[2] for row in rows.values()}
    assert passwords_shown == {"PW000001", "PW000002", "PW000003"}
    assert {row[5] for row in rows.values()} == {"2026年11月24日"}
    # Encrypted at rest: the page shows the password, the database holds no clear text.
    for naccs_id in issued:
        assert "PW0000" not in naccs_id.initial_password_encrypted
        assert naccs_id.initial_password_encrypted not in page.html
    assert field(page, "start_date") == "2026年11月24日"
    assert "印刷" in field(page, "print_hint")
    assert page.href_of("戻る") == detail_url(application)
    assert "変更済み" not in " ".join(row[2] for row in rows.values())


def test_id_notice_shows_the_processing_method_and_broker_name(customer_client, customer, reviewer):
    application = approved(customer, reviewer)
    naccs_id = NaccsUserId.objects.select_related("processing_method").get(issued_by=application)

    row = issued_rows(Page(customer_client.get(notice_url(application))))[naccs_id.naccs_user_id]

    assert row[3] == naccs_id.processing_method.name
    assert row[4] == "通関 士0"


def test_id_notice_shows_a_changed_initial_password_as_changed_and_no_value(
    customer_client, customer, reviewer, known_passwords
):
    application = approved(customer, reviewer, ids=2)
    first, second = NaccsUserId.objects.filter(issued_by=application).order_by("identifier")
    NaccsUserId.objects.filter(pk=first.pk).update(password_changed_at=clock.now())

    response = customer_client.get(notice_url(application))
    rows = issued_rows(Page(response))

    assert rows[first.naccs_user_id][2] == "変更済み"
    assert crypto.decrypt(first.initial_password_encrypted) not in response.content.decode()
    assert "変更済み" not in rows[second.naccs_user_id][2]
    assert rows[second.naccs_user_id][2].startswith("PW00000")


def test_id_notice_of_a_draft_is_404(customer_client, customer):
    draft = DraftFactory(contract=customer.contract, created_by=customer, desired_start_date=DESIRED)

    assert customer_client.get(notice_url(draft)).status_code == 404


@pytest.mark.parametrize("state", ["submitted", "under_review", "rejected"])
def test_id_notice_of_an_application_not_approved_is_404(customer_client, customer, reviewer, state):
    application = not_approved(customer, reviewer, state)
    assert Application.objects.get(pk=application.pk).status == state

    assert customer_client.get(notice_url(application)).status_code == 404
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_every_view_of_the_id_notice_is_audited_with_its_actor(customer_client, customer, reviewer):
    application = approved(customer, reviewer)

    customer_client.get(notice_url(application))
    customer_client.get(notice_url(application))

    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("pk")
    assert entries.count() == 2
    for entry in entries:
        assert entry.actor == customer
        assert entry.object_pk == str(application.pk)
        assert entry.content_type.model_class() is Application
        assert entry.additional_data["action"] == "id_notice_view"


def test_id_notice_is_never_stored_by_a_cache(customer_client, customer, reviewer):
    application = approved(customer, reviewer)

    response = customer_client.get(notice_url(application))

    assert "no-store" in response["Cache-Control"]


def test_id_notice_page_has_no_inline_style_or_script(customer_client, customer, reviewer):
    """A Content-Security-Policy without 'unsafe-inline' is coming: nothing on the page may depend on it."""
    application = approved(customer, reviewer)

    page = Page(customer_client.get(notice_url(application)))

    assert not page.root.find_all("script")
    assert not page.root.find_all("style")
    assert not [node for node in page.root.iter() if "style" in node.attrs]


def test_submitted_status_is_shown_in_japanese_for_every_state(customer_client, customer, reviewer):
    """The status labels come from ApplicationStatus; none of them reaches the page as its code."""
    application = submitted(customer)
    review_services.application_take(application=application, actor=reviewer)

    page = Page(customer_client.get(detail_url(application)))

    assert field(page, "status") == ApplicationStatus.UNDER_REVIEW.label == "内容確認中"


def test_the_screens_that_name_an_applications_ids_read_none_of_their_credentials(
    customer_client, customer, reviewer
):
    """申込詳細 of an approved addition (its issued IDs), of a removal and of a reset (the IDs they name), the
    完了 screen and the 取下げ confirmation show 利用者IDs but never read their password hashes or initial-password
    ciphertexts: only ID通知内容 and the UTB gateway do."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import NaccsUserIdFactory, submitted_removal, submitted_reset

    addition = approved(customer, reviewer, ids=2)
    targets = [NaccsUserIdFactory(contract=customer.contract, identifier=f"R0{n}") for n in range(2)]
    removal = submitted_removal(contract=customer.contract, targets=targets[:1])
    reset = submitted_reset(contract=customer.contract, targets=targets[1:])
    waiting = submitted_reset(contract=customer.contract, targets=targets[:1])
    for application in (removal, reset):
        review_services.application_take(application=application, actor=reviewer)
        review_services.application_approve(application=application, actor=reviewer)
    urls = {
        "issued": detail_url(addition),
        "removed": detail_url(removal),
        "reset": detail_url(reset),
        "waiting": detail_url(waiting),
        "complete": reverse("applications:complete", kwargs={"pk": waiting.pk}),
        "withdraw": reverse("applications:withdraw", kwargs={"pk": waiting.pk}),
    }
    pages = {}
    with CaptureQueriesContext(connection) as captured:
        for name, url in urls.items():
            response = customer_client.get(url)
            assert response.status_code == 200, name
            pages[name] = Page(response)
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "password_hash" not in sql and "initial_password_encrypted" not in sql
    issued = NaccsUserId.objects.filter(issued_by=addition).order_by("identifier")
    assert field(pages["issued"], "issued_ids") == "、".join(naccs_id.naccs_user_id for naccs_id in issued)
    assert field(pages["removed"], "removed_ids") == targets[0].naccs_user_id
    assert field(pages["reset"], "reset_ids") == targets[1].naccs_user_id
    assert targets[0].naccs_user_id in pages["waiting"].text
