"""Query budgets for every page: the number of SQL queries a page makes is fixed (BUDGETS) and does not grow with
the data it shows — measured with 1 row (SMALL) and again with 50 rows (LARGE).

Each page is measured after a warm-up request (the content-type and permission caches, the session, the UTB
verified-credential cache), so both measurements see the same warm state. The small count must be within the
page's budget (a regression that adds a query fails even with one row), and the large one must not exceed the
small one (an N+1 fails as soon as rows grow).

The limit of IDs per application is 20 (NSS_MAX_IDS_PER_APPLICATION); these tests raise it to 50 so that every
per-application list (items, issued IDs, their notices) is measured at 1 and 50 rows like everything else — the
setting is read only by the rules, never by the queries, so raising it changes nothing about how a page reads.

The counts are the same on SQLite and PostgreSQL (the savepoints of the UTB registration's transaction.atomic are
counted on both); `budget()` still allows a per-backend figure should one ever differ.
"""

import base64
import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from applications import audit, business_calendar, clock, rules
from applications.models import Application, ApplicationKind, ApplicationStatus, NaccsUserId
from applications.services import application_submit, application_targets_set
from notifications.models import Email, EmailStatus
from reviews import services as review_services
from tests.conftest import _missing, pdf_unavailable
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    ItemFactory,
    NaccsUserIdFactory,
    method,
    otp_login,
    staff_with_device,
    submitted_application,
    submitted_removal,
)
from tests.utb_gateway import READY_PASSWORD, ready_id
from utb_gateway.models import LicenceRegistration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

SMALL = 1
LARGE = 50

# Queries per request, measured with SMALL rows after a warm-up. A figure that differs per backend is written
# {"sqlite": n, "postgresql": m}.
BUDGETS: dict[str, int | dict[str, int]] = {
    "menu": 4,
    "guidance": 2,
    "applicant": 3,
    "add-ids": 6,
    "select-ids": 6,
    "select-ids-reset": 6,
    "confirm": 5,
    "complete": 6,
    "application-list": 4,
    "application-detail": 6,
    "id-notice": 7,
    "id-notice-reset": 7,
    "id-notice-pdf": 7,  # the reads of the screen and its audit entry; the PDF is drawn from them
    "staff-queue": 8,  # + the counts at the top (SPEC §8), one query
    "staff-queue-by-desired-date": 8,
    "staff-application": 11,  # + the internal notes
    "staff-approve-confirm": 11,
    "staff-approve-confirm-reset": 11,
    "staff-approve-confirm-removal": 10,
    "staff-dashboard": 7,
    "staff-contracts": 5,
    "staff-contract": 10,
    "utb-menu": 2,
    "utb-screen-post": 8,
    "utb01": 4,
    "api-utb01": 4,
    "api-utb": 8,
}


def budget(page: str) -> int:
    value = BUDGETS[page]
    return value[connection.vendor] if isinstance(value, dict) else value


@dataclass
class Call:
    """One request: what to send, and a text the page must contain (proof that the rows were really shown)."""

    path: str
    method: str = "get"
    data: dict | str | None = None
    headers: dict = field(default_factory=dict)
    content_type: str | None = None
    expect: str | None = None
    status: int = 200

    def send(self, client):
        kwargs = dict(self.headers)
        if self.content_type:
            kwargs["content_type"] = self.content_type
        if self.data is not None:
            return getattr(client, self.method)(self.path, self.data, **kwargs)
        return getattr(client, self.method)(self.path, **kwargs)


@dataclass
class Env:
    """What one test builds on: its client, and the objects the cases keep between the two sizes."""

    client: object
    state: dict = field(default_factory=dict)


# --- builders ------------------------------------------------------------------------------------------------


def _earliest() -> datetime.date:
    return rules.earliest_start_date(clock.today())


def _customer(env: Env):
    """The office's customer, logged in on the test client."""
    if "customer" not in env.state:
        customer = CustomerFactory()
        env.client.force_login(customer)
        env.state["customer"] = customer
    return env.state["customer"]


def _staff(env: Env):
    """A reviewer (logged in through the staff login) and an approver (four eyes)."""
    if "reviewer" not in env.state:
        env.state["reviewer"] = staff_with_device("reviewer", email="reviewer@nacc.example")
        env.state["approver"] = staff_with_device("approver", email="approver@nacc.example")
        otp_login(env.client, env.state["reviewer"])
    return env.state["reviewer"], env.state["approver"]


def _draft_items(application, start: int, stop: int) -> None:
    methods = [method("interactive"), method("netnaccs")]
    for index in range(start, stop):
        ItemFactory(
            application=application, processing_method=methods[index % 2], broker_name=f"通関 士{index}"
        )


def _approved(env: Env, n: int) -> Application:
    """An application of the customer's office asking n IDs, approved (n 利用者IDs issued), with n notices."""
    customer = _customer(env)
    reviewer, approver = _staff_only(env)
    draft = DraftFactory(
        contract=customer.contract, created_by=customer, desired_start_date=_earliest(), items=0
    )
    _draft_items(draft, 0, n)
    application = review_services.application_take(application=_submit(draft), actor=reviewer)
    for index in range(n):
        review_services.progress_notice_post(application=application, actor=reviewer, text=f"通知{index}")
        review_services.internal_note_add(application=application, actor=reviewer, text=f"メモ{index}")
    review_services.application_approve(application=application, actor=approver)
    application.refresh_from_db()
    return application


def _staff_only(env: Env):
    """Staff for building data without logging the client in as staff (the customer pages)."""
    if "builder_reviewer" not in env.state:
        env.state["builder_reviewer"] = staff_with_device("reviewer")
        env.state["builder_approver"] = staff_with_device("approver")
    return env.state["builder_reviewer"], env.state["builder_approver"]


def _submit(draft) -> Application:
    return application_submit(application=draft)


def _grow_office(env: Env, n: int) -> None:
    """Bring the customer's office to n submitted applications (two IDs each, every third taken by a reviewer)
    and n 利用者IDs; another office gets as many, which no page of this office may show."""
    customer = _customer(env)
    reviewer, _approver = _staff_only(env)
    have = env.state.setdefault("office_rows", 0)
    other = env.state.setdefault("other_office", ContractFactory())
    for index in range(have, n):
        application = submitted_application(contract=customer.contract, methods=("interactive", "netnaccs"))
        if index % 3 == 1:
            review_services.application_take(application=application, actor=reviewer)
        NaccsUserIdFactory(contract=customer.contract, identifier=f"M{index:02d}")
        submitted_application(contract=other)
    env.state["office_rows"] = max(have, n)


def _own_draft(env: Env, n: int) -> Application:
    """The customer's own draft, grown to n IDs (one draft per account: the same draft grows)."""
    customer = _customer(env)
    draft = env.state.get("draft")
    if draft is None:
        draft = DraftFactory(
            contract=customer.contract, created_by=customer, desired_start_date=_earliest(), items=0
        )
        env.state["draft"] = draft
    _draft_items(draft, draft.items.count(), n)
    return draft


# --- the pages ---------------------------------------------------------------------------------------------------


def menu(env: Env, n: int) -> Call:
    _grow_office(env, n)
    _own_draft(env, n)
    return Call(reverse("menu"), expect="に削除されます")  # the draft, with the day it will be deleted


def guidance(env: Env, n: int) -> Call:
    _grow_office(env, n)
    return Call(reverse("guidance"), expect="年末年始（12月29日～1月3日）")


def applicant(env: Env, n: int) -> Call:
    draft = _own_draft(env, n)
    return Call(reverse("applications:applicant", kwargs={"pk": draft.pk}))


def add_ids(env: Env, n: int) -> Call:
    draft = _own_draft(env, n)
    return Call(reverse("applications:add-ids", kwargs={"pk": draft.pk}), expect=f"通関 士{n - 1}")


def select_ids(env: Env, n: int) -> Call:
    """通関士IDの削除: the office's n 通関士IDs offered as checkboxes, and as many in another office."""
    _grow_office(env, n)
    customer = _customer(env)
    draft = env.state.get("removal_draft")
    if draft is None:
        draft = DraftFactory(
            contract=customer.contract,
            created_by=customer,
            kind=ApplicationKind.REMOVE_BROKER_IDS,
            desired_end_date=_earliest(),
            items=0,
        )
        env.state["removal_draft"] = draft
    last = customer.contract.naccs_user_ids.order_by("identifier").last()
    return Call(reverse("applications:select-ids", kwargs={"pk": draft.pk}), expect=last.naccs_user_id)


def select_ids_reset(env: Env, n: int) -> Call:
    """パスワードの初期化: the office's n 利用者IDs offered as checkboxes, and as many in another office."""
    _grow_office(env, n)
    customer = _customer(env)
    draft = env.state.get("reset_draft")
    if draft is None:
        draft = DraftFactory(
            contract=customer.contract, created_by=customer, kind=ApplicationKind.RESET_PASSWORDS, items=0
        )
        env.state["reset_draft"] = draft
    last = customer.contract.naccs_user_ids.order_by("identifier").last()
    return Call(reverse("applications:select-ids", kwargs={"pk": draft.pk}), expect=last.naccs_user_id)


def _reset_of(env: Env, n: int, *, approve: bool, customer=None) -> Application:
    """A パスワードの初期化 of n of the office's IDs (the logged-in customer's, unless given), taken by a reviewer
    (and approved: n new passwords)."""
    customer = customer or _customer(env)
    reviewer, approver = _staff_only(env)
    start = env.state.get("reset_ids", 0)
    targets = [
        NaccsUserIdFactory(contract=customer.contract, identifier=f"R{index:02d}")
        for index in range(start, start + n)
    ]
    env.state["reset_ids"] = start + n
    draft = DraftFactory(
        contract=customer.contract, created_by=customer, kind=ApplicationKind.RESET_PASSWORDS, items=0
    )
    application_targets_set(application=draft, target_ids=[target.pk for target in targets])
    application = review_services.application_take(application=_submit(draft), actor=reviewer)
    if approve:
        review_services.application_approve(application=application, actor=approver)
    application.refresh_from_db()
    return application


def id_notice_reset(env: Env, n: int) -> Call:
    application = _reset_of(env, n, approve=True)
    last = NaccsUserId.objects.filter(password_issued_by=application).order_by("identifier").last()
    return Call(reverse("applications:id-notice", kwargs={"pk": application.pk}), expect=last.naccs_user_id)


def confirm(env: Env, n: int) -> Call:
    draft = _own_draft(env, n)
    return Call(reverse("applications:confirm", kwargs={"pk": draft.pk}), expect=f"通関 士{n - 1}")


def complete(env: Env, n: int) -> Call:
    customer = _customer(env)
    draft = DraftFactory(contract=customer.contract, desired_start_date=_earliest(), items=0)
    _draft_items(draft, 0, n)
    application = _submit(draft)
    return Call(
        reverse("applications:complete", kwargs={"pk": application.pk}), expect=application.reception_number
    )


def application_list(env: Env, n: int) -> Call:
    _grow_office(env, n)
    newest = (
        Application.objects.filter(contract=_customer(env).contract)
        .exclude(status=ApplicationStatus.DRAFT)
        .latest("submitted_at", "pk")
    )
    return Call(reverse("applications:application-list"), expect=newest.reception_number)


def application_detail(env: Env, n: int) -> Call:
    application = _approved(env, n)
    return Call(
        reverse("applications:application-detail", kwargs={"pk": application.pk}), expect=f"通知{n - 1}<"
    )


def id_notice(env: Env, n: int) -> Call:
    application = _approved(env, n)
    last = NaccsUserId.objects.filter(issued_by=application).order_by("identifier").last()
    return Call(reverse("applications:id-notice", kwargs={"pk": application.pk}), expect=last.naccs_user_id)


def id_notice_pdf(env: Env, n: int) -> Call:
    """「PDFで保存」: the rows are proven by the PDF's text (50 IDs are three pages; the query count stays)."""
    if reason := pdf_unavailable():
        _missing(reason)
    application = _approved(env, n)
    last = NaccsUserId.objects.filter(issued_by=application).order_by("identifier").last()
    return Call(
        reverse("applications:id-notice-pdf", kwargs={"pk": application.pk}), expect=last.naccs_user_id
    )


def staff_queue(env: Env, n: int) -> Call:
    """n open applications of n offices, three IDs each, every other one taken by a different reviewer."""
    reviewer, _approver = _staff(env)
    have = env.state.setdefault("queue_rows", 0)
    for index in range(have, n):
        application = submitted_application(methods=("interactive", "netnaccs", "interactive"))
        if index % 2:
            review_services.application_take(application=application, actor=staff_with_device("reviewer"))
    env.state["queue_rows"] = n
    oldest = (
        Application.objects.exclude(status=ApplicationStatus.DRAFT).order_by("submitted_at", "pk").first()
    )
    return Call(reverse("reviews:queue"), expect=oldest.reception_number)


def staff_dashboard(env: Env, n: int) -> Call:
    """n applications received in the last business days, every other one decided some hours later."""
    reviewer, approver = _staff(env)
    have = env.state.setdefault("dashboard_rows", 0)
    for index in range(have, n):
        application = review_services.application_take(application=submitted_application(), actor=reviewer)
        if index % 2 == 0:
            review_services.application_approve(application=application, actor=approver)
    env.state["dashboard_rows"] = n
    return Call(reverse("reviews:dashboard"), expect=f'data-figure="open">{n // 2}件<')


def staff_application(env: Env, n: int) -> Call:
    """An approved application with n IDs, n notices, n extra audit entries and n e-mails (sent, failed, resent)."""
    reviewer, approver = _staff(env)
    application = review_services.application_take(
        application=submitted_application(methods=["interactive", "netnaccs"] * (n // 2) or ["interactive"]),
        actor=reviewer,
    )
    for index in range(n):
        review_services.progress_notice_post(application=application, actor=reviewer, text=f"通知{index}")
        review_services.internal_note_add(application=application, actor=reviewer, text=f"メモ{index}")
    review_services.application_approve(application=application, actor=approver)
    for index in range(n):
        audit.record(
            application,
            actor=reviewer,
            action="email_resend",
            email="application_received",
            to=f"r{index}@x.example",
        )
    now = clock.now()
    emails = Email.objects.bulk_create(
        Email(
            kind="application_received",
            topic="application",
            topic_id=application.pk,
            to=f"to{index}@example.com",
            subject=f"件名{index}",
            body_text="本文",
            message_id=f"<{application.pk}.{index}@budget.example>",
            status=[EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.QUEUED][index % 3],
            sent_at=now if index % 3 == 0 else None,
            last_error="550 refused" if index % 3 == 1 else "",
            attempts=[1, 2, 0][index % 3],
        )
        for index in range(n)
    )
    Email.objects.filter(pk__in=[email.pk for email in emails[1::2]]).update(resent_from=emails[0])
    return Call(reverse("reviews:application", kwargs={"pk": application.pk}), expect=f"件名{n - 1}<")


def staff_approve_confirm(env: Env, n: int) -> Call:
    """承認内容を確認する for an application under review with n IDs, n of the office's identifiers taken."""
    reviewer, _approver = _staff(env)
    application = submitted_application(methods=["interactive", "netnaccs"] * (n // 2) or ["interactive"])
    for index in range(n):
        NaccsUserIdFactory(contract=application.contract, identifier=f"Z{index:02d}")
    application = review_services.application_take(application=application, actor=reviewer)
    return Call(
        reverse("reviews:approve-confirm", kwargs={"pk": application.pk}),
        data={"start_date": application.desired_start_date.isoformat(), "seen_status": "under_review"},
        expect="承認する（IDを払い出す）",
    )


def staff_approve_confirm_reset(env: Env, n: int) -> Call:
    """承認内容を確認する for a パスワードの初期化 of n IDs under review."""
    _staff(env)
    customer = env.state.setdefault("reset_customer", CustomerFactory())
    application = _reset_of(env, n, approve=False, customer=customer)
    last = application.items.order_by("target__identifier").last().target
    return Call(
        reverse("reviews:approve-confirm", kwargs={"pk": application.pk}),
        data={"seen_status": "under_review"},
        expect=last.naccs_user_id,
    )


def staff_queue_by_desired_date(env: Env, n: int) -> Call:
    """The queue sorted by 利用開始希望日 over n open additions and n removals of one office (n IDs to remove)."""
    reviewer, _approver = _staff(env)
    office = env.state.setdefault("removal_office", ContractFactory())
    have = env.state.setdefault("queue_mixed_rows", 0)
    for index in range(have, n):
        submitted_application(methods=("interactive", "netnaccs"))
        target = NaccsUserIdFactory(contract=office, identifier=f"R{index:02d}")
        submitted_removal(contract=office, targets=[target], desired_end_date=_earliest())
    env.state["queue_mixed_rows"] = n
    return Call(reverse("reviews:queue"), data={"sort": "start"}, expect="利用終了希望日")


def staff_approve_confirm_removal(env: Env, n: int) -> Call:
    """承認内容を確認する for a removal of n 通関士IDs under review, with a 利用終了日 other than the desired one (so
    the plan shows its automatic notice)."""
    reviewer, _approver = _staff(env)
    office = ContractFactory()
    targets = [NaccsUserIdFactory(contract=office, identifier=f"D{index:02d}") for index in range(n)]
    application = submitted_removal(contract=office, targets=targets, desired_end_date=_earliest())
    application = review_services.application_take(application=application, actor=reviewer)
    later = business_calendar.next_business_day(application.desired_end_date)
    return Call(
        reverse("reviews:approve-confirm", kwargs={"pk": application.pk}),
        data={"start_date": later.isoformat(), "seen_status": "under_review"},
        expect=f"{later.month}月{later.day}日から利用できなくなります。",
    )


def _utb_office(env: Env, n: int):
    """The inputter 1ANACA0A, logged in at the UTB login, and n more 通関士IDs of its office, each with a current
    licence number and an older one (history)."""
    if "office" not in env.state:
        office = env.state["office"] = ContractFactory(user_code="1ANAC")
        env.state["inputter"] = ready_id(office, identifier="A0A")
        response = env.client.post(
            reverse("utb_gateway:login"), {"user_id": "1ANACA0A", "password": READY_PASSWORD}
        )
        assert response.status_code == 302
    office, inputter = env.state["office"], env.state["inputter"]
    have = env.state.setdefault("utb_rows", 0)
    for index in range(have, n):
        broker = ready_id(office, identifier=f"B{index:02d}")
        LicenceRegistration.objects.create(
            naccs_user_id=broker, licence_number=f"{index}", registered_by=inputter, is_current=False
        )
        LicenceRegistration.objects.create(
            naccs_user_id=broker, licence_number=f"29-{index}", registered_by=inputter
        )
    env.state["utb_rows"] = n
    return inputter


def utb_menu(env: Env, n: int) -> Call:
    _utb_office(env, n)
    return Call(reverse("utb_gateway:menu"), expect="1ANACA0A")


def utb_screen_post(env: Env, n: int) -> Call:
    _utb_office(env, n)
    return Call(
        reverse("utb_gateway:utb"),
        method="post",
        data={"user_id": "1ANACB00", "licence_number": "２９－１０"},
        expect='data-result-code="00000"',
    )


def utb01(env: Env, n: int) -> Call:
    _utb_office(env, n)
    return Call(reverse("utb_gateway:utb01"), expect=f"29-{n - 1}<")


def _basic() -> dict:
    token = base64.b64encode(f"1ANACA0A:{READY_PASSWORD}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def api_utb01(env: Env, n: int) -> Call:
    _utb_office(env, n)
    return Call(reverse("utb_gateway:api-utb01"), headers=_basic(), expect=f'"29-{n - 1}"')


def api_utb(env: Env, n: int) -> Call:
    _utb_office(env, n)
    return Call(
        reverse("utb_gateway:api-utb"),
        method="post",
        data=json.dumps({"user_id": "1ANACB00", "licence_number": "29-10"}),
        content_type="application/json",
        headers=_basic(),
        expect='"result_code": "00000"',
    )


def _approver_logged_in(env: Env):
    if "approver_client" not in env.state:
        approver = staff_with_device("approver", email="contracts-approver@nacc.example")
        otp_login(env.client, approver)
        env.state["approver_client"] = approver
    return env.state["approver_client"]


def staff_contracts(env: Env, n: int) -> Call:
    """n offices, each with one 利用者ID and one customer account (the counts per row)."""
    _approver_logged_in(env)
    have = env.state.setdefault("contracts", 0)
    for index in range(have, n):
        contract = ContractFactory(user_code=f"C{index:04d}")
        ready_id(contract, identifier="A0A")
        CustomerFactory(contract=contract)
    env.state["contracts"] = n
    return Call(reverse("reviews:contracts"), expect="C0000")


def staff_contract(env: Env, n: int) -> Call:
    """One office with n 利用者IDs, n customer accounts and n audit entries."""
    approver = _approver_logged_in(env)
    contract = ContractFactory()
    for index in range(n):
        ready_id(contract, identifier=f"{index:03d}"[-3:].replace("0", "A"))
        CustomerFactory(contract=contract)
        audit.record(
            contract, actor=approver, action="contract_update", changes={"address": ["", str(index)]}
        )
    last = contract.naccs_user_ids.order_by("identifier").last()
    return Call(reverse("reviews:contract", kwargs={"pk": contract.pk}), expect=last.naccs_user_id)


PAGES: dict[str, Callable[[Env, int], Call]] = {
    "menu": menu,
    "guidance": guidance,
    "applicant": applicant,
    "add-ids": add_ids,
    "select-ids": select_ids,
    "select-ids-reset": select_ids_reset,
    "confirm": confirm,
    "complete": complete,
    "application-list": application_list,
    "application-detail": application_detail,
    "id-notice": id_notice,
    "id-notice-reset": id_notice_reset,
    "id-notice-pdf": id_notice_pdf,
    "staff-queue": staff_queue,
    "staff-queue-by-desired-date": staff_queue_by_desired_date,
    "staff-dashboard": staff_dashboard,
    "staff-application": staff_application,
    "staff-approve-confirm": staff_approve_confirm,
    "staff-approve-confirm-reset": staff_approve_confirm_reset,
    "staff-approve-confirm-removal": staff_approve_confirm_removal,
    "staff-contracts": staff_contracts,
    "staff-contract": staff_contract,
    "utb-menu": utb_menu,
    "utb-screen-post": utb_screen_post,
    "utb01": utb01,
    "api-utb01": api_utb01,
    "api-utb": api_utb,
}


def _params() -> list:
    return [pytest.param(page, id=page) for page in PAGES]


def _text(response) -> str:
    """What the page shows: its HTML, or the text of every page of a PDF."""
    if response["Content-Type"] == "application/pdf":
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.content.decode()


def _checked(call: Call, response) -> None:
    assert response.status_code == call.status, response.content[:500]
    if call.expect is not None:
        assert call.expect in _text(response), f"{call.expect!r} not on the page"


def test_budgets_cover_every_page():
    assert set(BUDGETS) == set(PAGES)


@pytest.mark.parametrize("page", _params())
def test_query_count_is_within_budget_and_constant_as_rows_grow(
    page, client, settings, django_assert_max_num_queries
):
    settings.NSS_MAX_IDS_PER_APPLICATION = LARGE
    env = Env(client=client)
    build = PAGES[page]

    small = build(env, SMALL)
    _checked(small, small.send(client))  # warm-up: content types, permissions, session, caches
    with CaptureQueriesContext(connection) as captured:
        response = small.send(client)
    _checked(small, response)
    small_count = len(captured)
    assert small_count <= budget(page), (
        f"{page}: {small_count} queries with {SMALL} row(s), budget {budget(page)}:\n"
        + "\n".join(query["sql"] for query in captured.captured_queries)
    )

    large = build(env, LARGE)
    with django_assert_max_num_queries(small_count):
        response = large.send(client)
    _checked(large, response)
