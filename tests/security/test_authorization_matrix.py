"""The authorization matrix: every named URL of the URLconf × every kind of visitor → the expected outcome.

The cells are generated from django.urls.get_resolver(), not from a hand-kept list, so a new view cannot escape
the matrix: a URL name without an EXPECTED row fails (test_every_url_has_a_row and its own cells), and so does a row
whose URL no longer exists. test_the_table_keeps_the_policy checks the table itself against the rules of SPEC §3,
§4 and §6, so a row cannot be "fixed" by writing down a weaker outcome:

- anonymous on a protected page → that area's login page (/login/, /staff/login/, /utb/login/);
- a customer of another office on an office-A object → 404, never 403 (it must not confirm the object exists);
- customers on staff pages → 403; staff on customer pages → 403;
- the UTB session grants nothing of the portal or the staff workplace, and the portal's login grants nothing of UTB;
- the UTB JSON API answers 401 without HTTP Basic, whatever the cookies;
- /healthz and /readyz are public.

Every refused cell (login, 401, 403, 404, 405) also checks that nothing changed in the database.

Skipped URL: Django's own i18n `set_language` (i18n/setlang/). It is Django's view, public by design for every
visitor (it only sets the language cookie and redirects to a safe `next`), it touches no object, and its behaviour is
covered by tests/test_i18n.py; it is the only pattern not written by this project.
"""

import base64
import datetime
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from applications import business_calendar, clock, enrolment
from applications.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Contract,
    EnrolmentPurpose,
    NaccsUserId,
    ProgressNotice,
    User,
)
from notifications.models import Email
from reviews import services as review_services
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    DraftFactory,
    otp_login,
    staff_in,
    staff_with_device,
    submitted_application,
)
from tests.utb_gateway import READY_PASSWORD, ready_id
from utb_gateway.models import LicenceRegistration

# --- the URLconf -----------------------------------------------------------------------------------------------

SKIPPED_VIEWS = {"django.views.i18n.set_language"}  # see the module docstring


def _named_patterns(resolver=None, namespace=""):
    """(namespaced name, dotted view path) of every named pattern, recursively through include()."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern.lookup_str


def url_names() -> list[str]:
    return sorted({name for name, view in _named_patterns() if view not in SKIPPED_VIEWS})


# --- outcomes and roles ----------------------------------------------------------------------------------------

LOGIN = "login"  # 302 to the login page of the row's area
OK = 200
REDIRECT = 302  # 302 somewhere that is not a login page (or to the row's `to`)
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
REFUSED = {LOGIN, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, NOT_ALLOWED}

ROLES = ("anonymous", "customer_a", "customer_b", "reviewer", "approver", "utb")
CUSTOMERS = ("customer_a", "customer_b")
STAFF = ("reviewer", "approver")

PORTAL_LOGIN = "/login/"
STAFF_LOGIN = "/staff/login/"
UTB_LOGIN = "/utb/login/"
LOGIN_PATHS = {PORTAL_LOGIN, STAFF_LOGIN, UTB_LOGIN}

# Areas: who may use a row's URL.
PUBLIC, PORTAL, STAFF_AREA, UTB_AREA, API = "public", "portal", "staff", "utb", "api"
ACCOUNTS = "staff accounts"  # part of the staff workplace, for approvers only
OFFICE_ADMIN = "office accounts"  # part of the portal, for an office's 管理者 only (customer_a is office A's)
AREA_LOGIN = {
    PORTAL: PORTAL_LOGIN,
    OFFICE_ADMIN: PORTAL_LOGIN,
    STAFF_AREA: STAFF_LOGIN,
    ACCOUNTS: STAFF_LOGIN,
    UTB_AREA: UTB_LOGIN,
}


@dataclass(frozen=True)
class Row:
    area: str
    methods: str  # the methods the view accepts; the first is the one the matrix sends
    # the office-A object in the URL: draft, submitted, under_review, approved, email; or an enrolment link
    target: str | None
    outcomes: dict  # role → outcome
    to: str | dict | None = None  # where a REDIRECT must go, when it matters ({role: path, "*": default})
    data: str | None = None  # what to POST (see `body`)
    # Outcomes of the wrong method that are not 405, by role (see the "login" row).
    wrong_method_outcomes: dict = field(default_factory=dict)
    # Its 200 is a PDF drawn by WeasyPrint: that cell needs WeasyPrint's libraries (tests/conftest.py require_pdf).
    pdf: bool = False

    @property
    def method(self) -> str:
        return self.methods.split()[0]

    @property
    def wrong_method(self) -> str:
        accepted = self.methods.split()
        # Not PUT for the GET-and-POST views: Django's LoginView (ProcessFormView) treats PUT as POST.
        return "POST" if accepted == ["GET"] else "GET" if accepted == ["POST"] else "DELETE"


def row(area, methods, target, anonymous, customer_a, customer_b, reviewer, approver, utb, **kwargs) -> Row:
    outcomes = dict(zip(ROLES, (anonymous, customer_a, customer_b, reviewer, approver, utb), strict=True))
    return Row(area, methods, target, outcomes, **kwargs)


L, R, U, F, N = LOGIN, REDIRECT, UNAUTHORIZED, FORBIDDEN, NOT_FOUND
# Customers (and anyone not logged in) go on to the menu; staff to their workplace.
MENU_OR_STAFF = {"*": "/menu/", "reviewer": "/staff/", "approver": "/staff/"}

# fmt: off
EXPECTED: dict[str, Row] = {
    #                         area        methods     target          anon cust_a cust_b rev  appr utb
    "home":                   row(PUBLIC, "GET", None,                 R,   R,    R,     R,   R,   R, to=MENU_OR_STAFF),
    "healthz":                row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    "readyz":                 row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    # Django's LoginView with redirect_authenticated_user: a logged-in account goes on to the menu, staff to the
    # workplace (whatever the method: LoginView.dispatch redirects before the method is looked at, so DELETE is a
    # 302 for them too).
    "login":                  row(PUBLIC, "GET POST", None,            OK,  R,    R,     R,   R,   OK, to=MENU_OR_STAFF,
                                  wrong_method_outcomes=dict.fromkeys(("customer_a", "customer_b", *STAFF), R)),
    "logout":                 row(PUBLIC, "POST", None,                R,   R,    R,     R,   R,   R, to=PORTAL_LOGIN),
    # 「パスワードをお忘れの方」 (SPEC §11): public; the reset link's token is the credential (a bad link is its own
    # 404 page, tests/nss_portal/test_password_reset.py).
    "password-reset":         row(PUBLIC, "GET POST", None,            OK,  OK,   OK,    OK,  OK,  OK),
    "password-reset-sent":    row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    "password-reset-confirm": row(PUBLIC, "GET POST", "reset",         OK,  OK,   OK,    OK,  OK,  OK),
    "password-reset-done":    row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    # The second step of a customer's login: only when the contract requires an authenticator (neither office
    # here does, so both customers are sent on to the menu).
    "login-otp":              row(PORTAL, "GET POST", None,            L,   R,    R,     F,   F,   L),
    "menu":                   row(PORTAL, "GET", None,                 L,   OK,   OK,    F,   F,   L),
    "guidance":               row(PORTAL, "GET", None,                 L,   OK,   OK,    F,   F,   L),
    "guidance-remove":        row(PORTAL, "GET", None,                 L,   OK,   OK,    F,   F,   L),
    "guidance-reset":         row(PORTAL, "GET", None,                 L,   OK,   OK,    F,   F,   L),
    "applications:start":     row(PORTAL, "POST", None,                L,   R,    R,     F,   F,   L),
    "applications:applicant": row(PORTAL, "GET POST", "draft",         L,   OK,   N,     F,   F,   L),
    "applications:add-ids":   row(PORTAL, "GET POST", "draft",         L,   OK,   N,     F,   F,   L),
    # 通関士IDの削除 (SPEC §9): its selection step, on a removal draft.
    "applications:select-ids":
                              row(PORTAL, "GET POST", "removal_draft", L,   OK,   N,     F,   F,   L),
    "applications:confirm":   row(PORTAL, "GET POST", "draft",         L,   OK,   N,     F,   F,   L),
    # キャンセル: GET asks 「この下書きを削除しますか？」 and changes nothing; POST deletes the draft.
    "applications:discard":   row(PORTAL, "GET POST", "draft",         L,   OK,   N,     F,   F,   L),
    "applications:complete":  row(PORTAL, "GET", "submitted",         L,   OK,   N,     F,   F,   L),
    "applications:application-list":
                              row(PORTAL, "GET", None,                 L,   OK,   OK,    F,   F,   L),
    "applications:application-detail":
                              row(PORTAL, "GET", "submitted",         L,   OK,   N,     F,   F,   L),
    # GET asks for the confirmation, POST withdraws.
    "applications:withdraw":  row(PORTAL, "GET POST", "submitted",    L,   OK,   N,     F,   F,   L),
    "applications:id-notice": row(PORTAL, "GET", "approved",          L,   OK,   N,     F,   F,   L),
    "applications:id-notice-pdf":
                              row(PORTAL, "GET", "approved",          L,   OK,   N,     F,   F,   L, pdf=True),
    "reviews:login":          row(PUBLIC, "GET POST", None,            OK,  OK,   OK,    OK,  OK,  OK),
    "reviews:queue":          row(STAFF_AREA, "GET", None,             L,   F,    F,     OK,  OK,  L),
    "reviews:dashboard":      row(STAFF_AREA, "GET", None,             L,   F,    F,     OK,  OK,  L),
    "reviews:application":    row(STAFF_AREA, "GET", "submitted",      L,   F,    F,     OK,  OK,  L),
    "reviews:take":           row(STAFF_AREA, "POST", "submitted",     L,   F,    F,     R,   R,   L),
    # With NSS_FOUR_EYES off (the default) a reviewer may approve; with it on the service refuses with a
    # message and the view still redirects to the application page. Either way: 302, not a permission cell.
    "reviews:approve":        row(STAFF_AREA, "POST", "under_review",  L,   F,    F,     R,   R,   L, data="approve"),
    "reviews:reject":         row(STAFF_AREA, "POST", "under_review",  L,   F,    F,     R,   R,   L, data="reject"),
    "reviews:notice":         row(STAFF_AREA, "POST", "submitted",     L,   F,    F,     R,   R,   L, data="notice"),
    "reviews:email-resend":   row(STAFF_AREA, "POST", "email",         L,   F,    F,     R,   R,   L),
    # The staff workplace of SPEC §8.
    "reviews:queue-export":   row(STAFF_AREA, "GET", None,             L,   F,    F,     OK,  OK,  L),
    "reviews:bulk-take":      row(STAFF_AREA, "POST", "queue_row",     L,   F,    F,     OK,  OK,  L, data="bulk-take"),
    "reviews:release":        row(STAFF_AREA, "POST", "under_review",  L,   F,    F,     R,   R,   L, data="holder"),
    # 担当者を変更: approvers only (the approvers' part of the workplace, like staff accounts).
    "reviews:reassign":       row(ACCOUNTS, "POST", "under_review",    L,   F,    F,     F,   R,   L, data="reassign"),
    # 承認内容を確認する changes nothing (without a start date it shows the application page again).
    "reviews:approve-confirm": row(STAFF_AREA, "GET", "under_review",  L,   F,    F,     OK,  OK,  L),
    "reviews:start-date":     row(STAFF_AREA, "POST", "approved",      L,   F,    F,     R,   R,   L, data="start-date"),
    "reviews:note":           row(STAFF_AREA, "POST", "submitted",     L,   F,    F,     R,   R,   L, data="note"),
    # Staff accounts: approvers only (SPEC §1: the approver manages staff accounts).
    "reviews:accounts":       row(ACCOUNTS, "GET POST", None,          L,   F,    F,     F,   OK,  L),
    "reviews:account":        row(ACCOUNTS, "GET POST", "staff",       L,   F,    F,     F,   OK,  L),
    "reviews:account-reset":  row(ACCOUNTS, "POST", "staff",           L,   F,    F,     F,   R,   L),
    # Contracts (SPEC §11): the approver's, like staff accounts.
    "reviews:contracts":      row(ACCOUNTS, "GET", None,               L,   F,    F,     F,   OK,  L),
    "reviews:contract-new":   row(ACCOUNTS, "GET POST", None,          L,   F,    F,     F,   OK,  L),
    "reviews:contract-import": row(ACCOUNTS, "GET POST", None,         L,   F,    F,     F,   OK,  L),
    "reviews:contract":       row(ACCOUNTS, "GET POST", "contract",    L,   F,    F,     F,   OK,  L),
    "reviews:contract-account-invite":
                              row(ACCOUNTS, "POST", "contract",        L,   F,    F,     F,   OK,  L),
    "reviews:contract-account-resend":
                              row(ACCOUNTS, "POST", "contract_account", L,  F,    F,     F,   R,   L),
    "reviews:contract-account-stop":
                              row(ACCOUNTS, "POST", "contract_account", L,  F,    F,     F,   R,   L),
    # The office's own accounts (SPEC §11): office A's customer is its 管理者; office B's customer is not one.
    "office-accounts":        row(OFFICE_ADMIN, "GET POST", None,      L,   OK,   F,     F,   F,   L),
    "office-account-resend":  row(OFFICE_ADMIN, "POST", "office_account", L, R,    F,     F,   F,   L),
    "office-account-stop":    row(OFFICE_ADMIN, "POST", "office_account", L, R,    F,     F,   F,   L),
    "invitation":             row(PUBLIC, "GET POST", "invitation",    OK,  OK,   OK,    OK,  OK,  OK),
    "invitation-done":        row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    # Staff enrolment (SPEC §10): public, the single-use link e-mailed to the staff member is the credential. Any
    # visitor holding a valid link sees the screen (a bad link is its own 404 page, tests/reviews/test_enrolment.py).
    "reviews:enrol":          row(PUBLIC, "GET POST", "enrolment",     OK,  OK,   OK,    OK,  OK,  OK),
    "reviews:enrol-complete": row(PUBLIC, "GET", None,                 OK,  OK,   OK,    OK,  OK,  OK),
    "utb_gateway:login":      row(PUBLIC, "GET POST", None,            OK,  OK,   OK,    OK,  OK,  OK),
    "utb_gateway:logout":     row(PUBLIC, "POST", None,                R,   R,    R,     R,   R,   R, to=UTB_LOGIN),
    "utb_gateway:menu":       row(UTB_AREA, "GET", None,               L,   L,    L,     L,   L,   OK),
    "utb_gateway:utb":        row(UTB_AREA, "GET POST", None,          L,   L,    L,     L,   L,   OK),
    "utb_gateway:utb01":      row(UTB_AREA, "GET", None,               L,   L,    L,     L,   L,   OK),
    "utb_gateway:password":   row(UTB_AREA, "GET POST", None,          L,   L,    L,     L,   L,   OK),
    "utb_gateway:api-utb":    row(API, "POST", None,                   U,   U,    U,     U,   U,   OK, data="api-utb"),
    "utb_gateway:api-utb01":  row(API, "GET", None,                    U,   U,    U,     U,   U,   OK),
}
# fmt: on

# --- the world: office A's objects, office B's customer, the staff and a UTB 利用者ID of office A --------------


class World:
    """Office A (with a ready 利用者ID), its customer, and a customer of office B. The office-A object a row's URL
    names is built on demand (`kwargs`), so a cell builds only what it requests."""

    def __init__(self):
        self.office_a = ContractFactory(user_code="1ANAC")
        self.customer_a = CustomerFactory(contract=self.office_a, is_office_admin=True)
        self.customer_b = CustomerFactory(contract=ContractFactory())
        self.naccs_id = ready_id(self.office_a, identifier="A0A")
        self.objects: dict = {}

    def _submitted(self) -> Application:
        return submitted_application(contract=self.office_a, created_by=self.customer_a)

    def _taken(self) -> Application:
        application = self._submitted()
        review_services.application_take(application=application, actor=staff_in("reviewer"))
        application.refresh_from_db()
        assert application.status == ApplicationStatus.UNDER_REVIEW
        return application

    def _build(self, target: str):
        if target == "draft":
            return DraftFactory(contract=self.office_a, created_by=self.customer_a)
        if target == "removal_draft":
            return DraftFactory(
                contract=self.office_a,
                created_by=self.customer_a,
                kind=ApplicationKind.REMOVE_BROKER_IDS,
                items=0,
            )
        if target == "submitted":
            return self._submitted()
        if target == "under_review":
            return self._taken()
        if target == "approved":
            application = self._taken()
            review_services.application_approve(application=application, actor=staff_in("approver"))
            return application
        if target == "staff":
            return staff_in("reviewer", username="matrix-staff-member")
        if target == "enrolment":
            account = staff_in("reviewer", username="matrix-enrolling", email="matrix-enrolling@nacc.example")
            _token, raw = enrolment.token_issue(
                user=account,
                purpose=EnrolmentPurpose.STAFF_ENROLMENT,
                created_by=None,
                lifetime=datetime.timedelta(hours=1),
            )
            return raw
        if target == "contract":
            return self.office_a
        if target == "office_account":
            invited = CustomerFactory(contract=self.office_a, username="matrix-colleague")
            invited.set_unusable_password()
            invited.save()
            return invited
        if target == "invitation":
            invited = CustomerFactory(contract=self.office_a, username="matrix-invited")
            _token, raw = enrolment.token_issue(
                user=invited,
                purpose=EnrolmentPurpose.CUSTOMER_INVITATION,
                created_by=None,
                lifetime=datetime.timedelta(hours=1),
            )
            return raw
        if target == "reset":
            _token, raw = enrolment.token_issue(
                user=self.customer_a,
                purpose=EnrolmentPurpose.PASSWORD_RESET,
                created_by=None,
                lifetime=datetime.timedelta(hours=1),
            )
            return raw
        if target == "email":
            application = self._submitted()
            email = Email.objects.filter(topic="application", topic_id=application.pk).first()
            assert email is not None, "submitting should have queued the 受付完了 e-mail"
            return application, email
        raise AssertionError(f"unknown target {target}")

    def get(self, target: str):
        if target not in self.objects:
            self.objects[target] = self._build(target)
        return self.objects[target]

    def kwargs(self, target: str | None) -> dict:
        if target is None:
            return {}
        if target == "email":
            application, email = self.get("email")
            return {"pk": application.pk, "email_id": email.pk}
        if target in ("enrolment", "reset", "invitation"):
            return {"token": self.get(target)}
        if target == "queue_row":  # a URL of the queue itself, acting on a submitted application it lists
            self.get("submitted")
            return {}
        if target == "office_account":
            return {"pk": self.get("office_account").pk}
        if target == "contract_account":
            return {"pk": self.office_a.pk, "account_id": self.get("office_account").pk}
        return {"pk": self.get(target).pk}


@pytest.fixture
def world(frozen_clock) -> World:
    return World()


def client_as(role: str, world: World) -> Client:
    client = Client()
    if role in CUSTOMERS:
        client.force_login(getattr(world, role))
    elif role in STAFF:
        otp_login(client, staff_with_device(role, username=f"matrix-{role}"))
    elif role == "utb":
        response = client.post(
            UTB_LOGIN, {"user_id": world.naccs_id.naccs_user_id, "password": READY_PASSWORD}
        )
        assert response.status_code == 302 and response["Location"] == "/utb/", "UTB login failed"
    return client


def basic_auth(world: World) -> dict:
    token = base64.b64encode(f"{world.naccs_id.naccs_user_id}:{READY_PASSWORD}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def body(name: str | None, world: World):
    if name == "approve":
        today = clock.today()
        application = world.get("under_review")
        start = review_services.confirmed_start_date_default(application, today=today)
        plan = review_services.approval_plan(
            application=application, actor=application.reviewer, start_date=start
        )
        return {
            "start_date": start.isoformat(),
            "seen_status": application.status,
            "confirmation": plan.confirmation,
        }
    if name == "bulk-take":
        return {"applications": [world.get("submitted").pk]}  # built with the URL (target "queue_row")
    if name == "holder":
        return {"seen_reviewer": world.get("under_review").reviewer_id}
    if name == "reassign":
        application = world.get("under_review")
        # the approver hands it to themself (any id will do for the roles refused before the form is read)
        approver = User.objects.filter(username="matrix-approver").first()
        return {"seen_reviewer": application.reviewer_id, "reviewer": approver.pk if approver else 0}
    if name == "start-date":
        application = Application.objects.get(pk=world.get("approved").pk)
        later = business_calendar.add_business_days(application.start_date, 1)
        return {
            "start_date": later.isoformat(),
            "reason": "お客様のご依頼",
            "seen_start_date": application.start_date,
        }
    if name == "note":
        return {"note": "電話で確認済み。"}
    if name == "reject":
        return {"reason": "書類に不備があります。", "seen_status": world.get("under_review").status}
    if name == "notice":
        return {"text": "確認中です。"}
    if name == "api-utb":
        return {"user_id": world.naccs_id.naccs_user_id, "licence_number": "29-10"}
    return {}


def send(client: Client, row: Row, url: str, method: str, role: str, world: World):
    extra = basic_auth(world) if row.area == API and role == "utb" else {}
    if method == "GET":
        return client.get(url, **extra)
    if method == "POST":
        data = body(row.data, world)
        if row.area == API:
            return client.post(url, json.dumps(data), content_type="application/json", **extra)
        return client.post(url, data, **extra)
    return client.generic(method, url, **extra)


def database_state() -> tuple:
    """What a refused request must not change."""
    return (
        tuple(Application.objects.order_by("pk").values_list("pk", "status", "reviewer_id", "decided_by_id")),
        ProgressNotice.objects.count(),
        tuple(Email.objects.order_by("pk").values_list("pk", "status", "attempts", "next_attempt_at")),
        tuple(User.objects.order_by("pk").values_list("pk", "is_active", "password", "session_epoch")),
        tuple(Contract.objects.order_by("pk").values_list("pk", "user_code", "company_name", "office_name")),
        LogEntry.objects.count(),
        NaccsUserId.objects.count(),
        LicenceRegistration.objects.count(),
    )


def describe(response) -> str:
    location = response.get("Location", "")
    return f"{response.status_code}{' → ' + location if location else ''}"


def assert_outcome(row: Row, expected, response, url: str, role: str) -> None:
    status, location = response.status_code, response.get("Location", "")
    if expected == LOGIN:
        login = AREA_LOGIN[row.area]
        assert status == 302, f"expected a redirect to {login}, got {describe(response)}"
        parts = urlsplit(location)
        assert parts.path == login, f"expected a redirect to {login}, got {describe(response)}"
        if login != UTB_LOGIN:  # the portal and staff logins send the visitor back afterwards
            assert parse_qs(parts.query).get("next") == [url], f"wrong next: {location}"
    elif expected == REDIRECT:
        assert status == 302, f"expected a redirect, got {describe(response)}"
        path = urlsplit(location).path
        if row.to:
            target = row.to.get(role, row.to["*"]) if isinstance(row.to, dict) else row.to
            assert path == target, f"expected a redirect to {target}, got {describe(response)}"
        else:
            assert path not in LOGIN_PATHS, f"expected success, got a login redirect: {describe(response)}"
    else:
        assert status == expected, f"expected {expected}, got {describe(response)}"


def cells():
    for name in url_names():
        for role in ROLES:
            yield pytest.param(name, role, id=f"{name}|{role}")


def _row(name: str) -> Row:
    if name not in EXPECTED:
        pytest.fail(f"{name} has no row in EXPECTED: add the expected outcome for every role", pytrace=False)
    return EXPECTED[name]


# --- the tests -------------------------------------------------------------------------------------------------


def test_every_url_has_a_row():
    missing = sorted(set(url_names()) - EXPECTED.keys())
    assert not missing, f"URL names without an EXPECTED row: {missing}"


def test_every_row_has_a_url():
    stale = sorted(EXPECTED.keys() - set(url_names()))
    assert not stale, f"EXPECTED rows whose URL no longer exists: {stale}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_table_keeps_the_policy(name):
    row = EXPECTED[name]
    out = row.outcomes
    assert set(out) == set(ROLES)
    if row.area == PUBLIC:
        assert not REFUSED & set(out.values()), "public URLs refuse nobody"
    elif row.area == PORTAL:
        assert out["anonymous"] == LOGIN and out["utb"] == LOGIN, "the UTB session grants no portal page"
        assert out["reviewer"] == out["approver"] == FORBIDDEN, "staff on customer pages: 403"
        assert out["customer_a"] in (OK, REDIRECT)
        if row.target:
            assert out["customer_b"] == NOT_FOUND, "another office's object is a 404, never a 403"
        else:
            assert out["customer_b"] in (OK, REDIRECT)
    elif row.area == STAFF_AREA:
        assert out["anonymous"] == LOGIN and out["utb"] == LOGIN
        assert out["customer_a"] == out["customer_b"] == FORBIDDEN, "customers on staff pages: 403"
        assert out["reviewer"] in (OK, REDIRECT) and out["approver"] in (OK, REDIRECT)
    elif row.area == ACCOUNTS:
        assert out["anonymous"] == LOGIN and out["utb"] == LOGIN
        assert out["customer_a"] == out["customer_b"] == out["reviewer"] == FORBIDDEN, "approvers only"
        assert out["approver"] in (OK, REDIRECT)
    elif row.area == OFFICE_ADMIN:
        # An admin of another office on this office's account is a 404: tests/nss_portal/test_invitations.py.
        assert out["anonymous"] == LOGIN and out["utb"] == LOGIN
        assert out["reviewer"] == out["approver"] == FORBIDDEN, "staff on customer pages: 403"
        assert out["customer_b"] == FORBIDDEN, "a customer who is not the office's 管理者: 403"
        assert out["customer_a"] in (OK, REDIRECT)
    elif row.area == UTB_AREA:
        assert out["utb"] == OK
        assert all(out[role] == LOGIN for role in ROLES if role != "utb"), (
            "the portal login grants no UTB screen"
        )
    elif row.area == API:
        assert out["utb"] == OK
        assert all(out[role] == UNAUTHORIZED for role in ROLES if role != "utb"), "the API needs HTTP Basic"
    else:
        pytest.fail(f"unknown area {row.area}")
    if row.target in ("enrolment", "reset", "invitation"):
        assert row.area == PUBLIC, "an enrolment link is public: the token in it is the credential"
    elif row.target:
        assert row.area in (PORTAL, OFFICE_ADMIN, STAFF_AREA, ACCOUNTS), (
            "only portal and staff URLs carry objects"
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), list(cells()))
def test_matrix(name, role, world, request):
    row = _row(name)
    client = client_as(role, world)
    url = reverse(name, kwargs=world.kwargs(row.target))
    expected = row.outcomes[role]
    if row.pdf and expected == OK:
        request.getfixturevalue("require_pdf")
    before = database_state()
    response = send(client, row, url, row.method, role, world)
    assert_outcome(row, expected, response, url, role)
    if expected in REFUSED:
        assert database_state() == before, "a refused request changed the database"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), list(cells()))
def test_wrong_method_is_405_for_everyone(name, role, world):
    """A method the view does not accept is refused before any authorization: 405 for every role (but the
    `wrong_method_outcomes` of a row), nothing changes (GET on a POST-only view, POST on a GET-only one, DELETE on one that takes both)."""
    row = _row(name)
    client = client_as(role, world)
    url = reverse(name, kwargs=world.kwargs(row.target))
    before = database_state()
    response = send(client, row, url, row.wrong_method, role, world)
    assert_outcome(row, row.wrong_method_outcomes.get(role, NOT_ALLOWED), response, url, role)
    assert database_state() == before
