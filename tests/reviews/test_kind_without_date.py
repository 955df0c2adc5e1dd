"""The staff side reads the date the customer asked for from the kind (applications/kinds.py), and the kind that
asks for none (パスワードの初期化: `desired_date_field` None, both date fields empty) works through it: the queue
sorts it last by 利用開始希望日, the CSV leaves its dates empty, and approval plans and posts no automatic notice."""

import csv
import io

import pytest
from django.urls import reverse

from applications import clock, kinds
from applications.models import (
    DESIRED_DATE_FIELDS,
    NO_DESIRED_DATE,
    ApplicationKind,
    ProgressNotice,
)
from reviews import selectors
from reviews.services import application_approve, application_take, approval_plan
from tests.factories import (
    NaccsUserIdFactory,
    otp_login,
    staff_in,
    staff_with_device,
    submitted_application,
    submitted_removal,
    submitted_reset,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_the_queue_sorts_by_each_kinds_own_desired_date(contract):
    for kind in kinds.KINDS.values():
        assert kind.desired_date_field in (None, *DESIRED_DATE_FIELDS)
    submitted_application(contract=contract)
    target = NaccsUserIdFactory(contract=contract, identifier="A0A")
    submitted_removal(contract=contract, targets=[target])
    submitted_reset(contract=contract, targets=[target])
    rows = selectors.application_queue(status="", sort="start", today=clock.today()).rows
    assert {row.kind for row in rows} == set(ApplicationKind.values)
    for row in rows:
        wanted = kinds.kind_of(row).desired_date(row)
        assert (wanted is None) == (row.kind == ApplicationKind.RESET_PASSWORDS)
        assert getattr(row, selectors.DESIRED_DATE) == (wanted or NO_DESIRED_DATE)


@pytest.fixture
def dateless(contract):
    """A パスワードの初期化 under review: the kind with no desired date."""
    application = submitted_reset(
        contract=contract, targets=[NaccsUserIdFactory(contract=contract, identifier="A0A")]
    )
    assert application.desired_start_date is None and application.desired_end_date is None
    return application_take(application=application, actor=staff_in("reviewer"))


def test_no_desired_date_sorts_last_and_its_cursor_pages_on(dateless, contract):
    dated = submitted_application(contract=contract)
    today = clock.today()
    assert [row.pk for row in selectors.application_queue(sort="start", today=today).rows] == [
        dated.pk,
        dateless.pk,
    ]
    first = selectors.application_queue(sort="-start", today=today, limit=1)
    assert [row.pk for row in first.rows] == [dateless.pk]
    assert getattr(first.rows[0], selectors.DESIRED_DATE) == NO_DESIRED_DATE
    second = selectors.application_queue(sort="-start", after=first.next_cursor, today=today, limit=1)
    assert [row.pk for row in second.rows] == [dated.pk]
    back = selectors.application_queue(sort="-start", before=second.previous_cursor, today=today, limit=1)
    assert [row.pk for row in back.rows] == [dateless.pk]


def test_approval_plans_and_posts_no_notice_without_a_desired_date(dateless):
    approver = staff_in("approver")
    plan = approval_plan(application=dateless, actor=approver)
    assert plan.notice_text is None and plan.warnings == []
    application_approve(application=dateless, actor=approver, confirmation=plan.confirmation)
    assert not ProgressNotice.objects.filter(application=dateless).exists()


def test_the_confirmation_screen_offers_no_notice_row_without_a_desired_date(client, dateless, settings):
    settings.NSS_FOUR_EYES = False
    approver = staff_with_device("approver")
    otp_login(client, approver)
    page = Page(
        client.get(
            reverse("reviews:approve-confirm", kwargs={"pk": dateless.pk}), {"seen_status": "under_review"}
        )
    )
    assert page.screen == "staff-approve-confirm"
    assert page.root.find_all(**{"data-field": "notice"}) == []
    assert "自動で掲示する通知" not in page.text


def test_the_csv_leaves_the_dates_of_a_kind_without_them_empty(staff_client, dateless):
    response = staff_client.get(reverse("reviews:queue-export"))
    header, row = csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    record = dict(zip(header, row, strict=True))
    assert record["申込受付番号"] == dateless.reception_number
    assert (record["希望日"], record["確定日"]) == ("", "")
