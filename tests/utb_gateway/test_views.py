"""The UTB gateway's screens and its JSON API (SPEC §6), through the Django test client at a frozen instant."""

import base64
import datetime
import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from applications import crypto
from applications.models import NaccsUserId, ProcessingMethod
from reviews.services import application_approve, application_take
from tests.factories import (
    FROZEN_AT,
    ContractFactory,
    CustomerFactory,
    NaccsUserIdFactory,
    staff_in,
    submitted_application,
)
from tests.html import Page
from tests.utb_gateway import JST, MONDAY_10, READY_PASSWORD, SATURDAY_10, ready_id, temporary_id
from utb_gateway import result_codes as rc
from utb_gateway import services
from utb_gateway.models import LicenceRegistration, UtbAttempt
from utb_gateway.session import COOKIE_NAME as UTB_COOKIE

pytestmark = pytest.mark.django_db

LOGIN = "/utb/login/"
MENU = "/utb/"
UTB = "/utb/utb/"
UTB01 = "/utb/utb01/"
PASSWORD_URL = "/utb/password/"
API_UTB = "/utb/api/utb"
API_UTB01 = "/utb/api/utb01"


@pytest.fixture(autouse=True)
def _monday_morning(frozen_clock):
    """Every test stands at FROZEN_AT (Monday 10:00 JST, inside UTB hours) unless it moves the clock."""
    return frozen_clock


@pytest.fixture
def colleague(office):
    return NaccsUserIdFactory(contract=office, identifier="Y27")


def utb_login(client, user_id, password=READY_PASSWORD):
    return client.post(LOGIN, {"user_id": user_id, "password": password})


@pytest.fixture
def utb_client(client, broker):
    response = utb_login(client, "1ANACA0A")
    assert response.status_code == 302, Page(response).page_errors()
    return client


def result_code(response) -> str:
    nodes = Page(response).root.find_all("span", **{"class": "nss-result-code"})
    assert len(nodes) == 1, Page(response).text
    return nodes[0].attrs["data-result-code"]


def basic(user_id, password=READY_PASSWORD) -> dict:
    token = base64.b64encode(f"{user_id}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def api_post(client, body, *, user_id="1ANACA0A", password=READY_PASSWORD, raw=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
    return client.post(API_UTB, data=data, content_type="application/json", **basic(user_id, password))


# --- screen login --------------------------------------------------------------------------------------------


def test_the_login_screen(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "utb-login"
    assert page.control_labelled("利用者ID").attrs["name"] == "user_id"
    assert page.control_labelled("パスワード").attrs["type"] == "password"


def test_a_ready_id_logs_in_to_the_menu(client, broker):
    response = utb_login(client, "1ANACA0A")
    assert response.status_code == 302
    assert response.url == MENU
    page = Page(client.get(MENU))
    assert page.screen == "utb-menu"
    assert "ログイン中の利用者ID：1ANACA0A" in page.text


def test_the_user_id_may_be_typed_in_lower_case(client, broker):
    assert utb_login(client, "1anaca0a").url == MENU


@pytest.mark.parametrize(
    ("user_id", "password"), [("1ANACA0A", "WRONG123"), ("1ANACZZZ", READY_PASSWORD), ("1ANACA0A", "")]
)
def test_a_wrong_login_stays_on_the_login_screen(client, broker, user_id, password):
    response = utb_login(client, user_id, password)
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "utb-login"
    if password:
        assert "利用者IDまたはパスワードが正しくありません。" in page.page_errors()
    assert UTB_COOKIE not in client.cookies or not client.cookies[UTB_COOKIE].value
    assert client.get(MENU).url == LOGIN


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"start_date": datetime.date(2026, 12, 9)}, "利用開始日（2026年12月9日）より前です。"),
        ({"start_date": None}, "利用開始日が決まっていません。"),
        ({"revoked_at": datetime.datetime(2026, 11, 1, tzinfo=JST)}, "この利用者IDは廃止されています。"),
        (
            {
                "revoked_at": datetime.datetime(2026, 11, 1, tzinfo=JST),
                "start_date": datetime.date(2026, 12, 9),
            },
            "この利用者IDは廃止されています。",
        ),
    ],
    ids=["not-started", "no-start-date", "revoked", "revoked-before-its-start"],
)
def test_an_id_not_started_or_revoked_cannot_log_in_and_is_told_why(client, office, kwargs, reason):
    ready_id(office, identifier="B01", **kwargs)
    response = utb_login(client, "1ANACB01")
    assert response.status_code == 200
    page = Page(response)
    assert "U0001" in page.page_errors()
    assert "利用開始前・廃止済み" in page.page_errors()
    assert page.root.find_all(**{"data-field": "reason"})[0].text == reason
    assert UTB_COOKIE not in client.cookies or not client.cookies[UTB_COOKIE].value


def test_the_businesses_tell_an_id_with_its_temporary_password_why_they_answer_u0001(
    client, office, colleague
):
    temporary_id(office, identifier="T01", password="TEMP0001")
    assert utb_login(client, "1ANACT01", "TEMP0001").url == PASSWORD_URL
    for response in (client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"}), client.get(UTB01)):
        assert result_code(response) == "U0001"
        result = Page(response).root.by_id("utb-result")
        assert [node.text for node in result.find_all(**{"data-field": "reason"})] == [
            "パスワードが未変更です。"
        ]


def test_the_api_keeps_the_one_u0001_message_without_a_reason(client, office, colleague):
    temporary_id(office, identifier="T01", password="TEMP0001")
    response = api_post(
        client, {"user_id": "1ANACY27", "licence_number": "035"}, user_id="1ANACT01", password="TEMP0001"
    )
    assert response.json() == {
        "result_code": "U0001",
        "message": rc.U0001.message,
        "user_id": "1ANACY27",
        "licence_number": None,
    }


def test_a_successful_result_shows_no_reason(utb_client, colleague):
    response = utb_client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"})
    assert result_code(response) == "00000"
    assert not Page(response).root.find_all(**{"data-field": "reason"})


def test_the_start_date_lets_the_id_log_in_from_midnight_in_japan(client, office, frozen_clock):
    ready_id(office, identifier="B01", start_date=datetime.date(2026, 11, 17))
    frozen_clock.move_to(datetime.datetime(2026, 11, 16, 23, 59, tzinfo=JST))
    assert utb_login(client, "1ANACB01").status_code == 200
    frozen_clock.move_to(datetime.datetime(2026, 11, 17, 0, 0, tzinfo=JST))
    assert utb_login(client, "1ANACB01").url == MENU


def test_every_screen_needs_the_utb_login(client):
    for url in (MENU, UTB, UTB01, PASSWORD_URL):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == LOGIN


def test_logout_ends_the_utb_session(utb_client):
    response = utb_client.post(reverse("utb_gateway:logout"))
    assert response.url == LOGIN
    assert utb_client.get(MENU).url == LOGIN


# --- the temporary password ------------------------------------------------------------------------------------


def test_a_temporary_password_leads_to_the_password_change_and_then_to_the_businesses(
    client, office, colleague
):
    temporary_id(office, identifier="T01", password="TEMP0001")
    response = utb_login(client, "1ANACT01", "TEMP0001")
    assert response.url == PASSWORD_URL
    page = Page(client.get(PASSWORD_URL))
    assert page.screen == "utb-password"
    assert "初期パスワードのままです" in page.text

    # until the change, every business answers U0001
    response = client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"})
    assert result_code(response) == "U0001"
    assert result_code(client.get(UTB01)) == "U0001"
    assert not LicenceRegistration.objects.exists()

    response = client.post(
        PASSWORD_URL,
        {"current_password": "TEMP0001", "new_password": "NEW9PASS", "new_password_confirm": "NEW9PASS"},
    )
    assert response.url == MENU
    page = Page(client.get(MENU))
    assert "パスワードを変更しました。" in page.page_errors()
    assert result_code(client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"})) == "00000"


def test_the_api_answers_u0001_with_a_temporary_password(client, office, colleague):
    temporary_id(office, identifier="T01", password="TEMP0001")
    response = api_post(
        client, {"user_id": "1ANACY27", "licence_number": "035"}, user_id="1ANACT01", password="TEMP0001"
    )
    assert response.status_code == 200
    assert response.json()["result_code"] == "U0001"
    response = client.get(API_UTB01, **basic("1ANACT01", "TEMP0001"))
    assert response.json() == {"result_code": "U0001", "message": response.json()["message"], "items": []}
    assert response.json()["message"].startswith("ログインした利用者IDは利用できません")


# --- sessions: separate from the portal --------------------------------------------------------------------------


def test_logging_in_to_utb_does_not_log_in_to_the_portal(utb_client):
    assert "_auth_user_id" not in utb_client.session
    response = utb_client.get(reverse("menu"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_logging_in_to_the_portal_does_not_log_in_to_utb(client, broker):
    client.force_login(CustomerFactory(contract=broker.contract))
    assert client.get(reverse("menu")).status_code == 200
    assert client.get(MENU).url == LOGIN


def test_both_logins_side_by_side_each_keep_their_own(client, broker):
    customer = CustomerFactory(contract=broker.contract)
    client.force_login(customer)
    assert utb_login(client, "1ANACA0A").url == MENU
    assert client.get(reverse("menu")).status_code == 200
    assert client.get(MENU).status_code == 200
    client.post(reverse("utb_gateway:logout"))
    assert client.get(reverse("menu")).status_code == 200  # the portal login stays
    assert client.get(MENU).url == LOGIN


def test_logging_out_of_the_portal_leaves_the_utb_login(client, broker):
    client.force_login(CustomerFactory(contract=broker.contract))
    assert utb_login(client, "1ANACA0A").url == MENU
    client.post(reverse("logout"))
    assert client.get(reverse("menu")).status_code == 302  # the portal login ended …
    assert client.get(MENU).status_code == 200  # … the UTB one did not


def test_the_utb_session_has_its_own_cookie_limited_to_utb(client, broker):
    response = utb_login(client, "1ANACA0A")
    cookie = response.cookies[UTB_COOKIE]
    assert cookie["path"] == "/utb/"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert "sessionid" not in response.cookies  # the portal's session cookie is not involved


def test_a_password_change_elsewhere_ends_the_utb_session(utb_client, broker):
    other_browser = Client()
    assert utb_login(other_browser, "1ANACA0A").url == MENU
    # the same ID changes its password elsewhere (another browser's session, here through the service)
    services.naccs_password_change(naccs_id=broker, current_password=READY_PASSWORD, new_password="NEW9PASS")
    assert utb_client.get(MENU).url == LOGIN
    assert other_browser.get(MENU).url == LOGIN


def test_the_own_password_change_keeps_the_session(utb_client):
    response = utb_client.post(
        PASSWORD_URL,
        {"current_password": READY_PASSWORD, "new_password": "NEW9PASS", "new_password_confirm": "NEW9PASS"},
    )
    assert response.url == MENU
    assert utb_client.get(MENU).status_code == 200


# --- password screen --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current_password": "WRONG123"}, "current_password", "現在のパスワードが正しくありません。"),
        ({"new_password": "ABC12", "new_password_confirm": "ABC12"}, "new_password", "6～8文字"),
        ({"new_password": "abc123", "new_password_confirm": "abc123"}, "new_password", "英大文字と数字だけ"),
        ({"new_password": "ABCDEF", "new_password_confirm": "ABCDEF"}, "new_password", "両方"),
        ({"new_password": READY_PASSWORD, "new_password_confirm": READY_PASSWORD}, "new_password", "直近3回"),
        ({"new_password_confirm": "NEW9PASX"}, "new_password_confirm", "一致しません"),
    ],
)
def test_the_password_screen_refuses(utb_client, broker, data, field, message):
    form = {
        "current_password": READY_PASSWORD,
        "new_password": "NEW9PASS",
        "new_password_confirm": "NEW9PASS",
    }
    response = utb_client.post(PASSWORD_URL, {**form, **data})
    assert response.status_code == 200
    assert message in Page(response).field_errors(field)
    broker.refresh_from_db()
    assert services.passwords.check_naccs_password(READY_PASSWORD, broker.password_hash)


# --- UTB screen --------------------------------------------------------------------------------------------------


def test_the_utb_screen_registers_the_guides_sample(utb_client, colleague):
    page = Page(utb_client.get(UTB))
    assert page.screen == "utb"
    assert page.control_labelled("利用者ID").attrs["name"] == "user_id"
    assert page.control_labelled("通関士証票番号").attrs["name"] == "licence_number"

    response = utb_client.post(UTB, {"user_id": "1ANACY27", "licence_number": "２９－１０"})

    assert result_code(response) == "00000"
    page = Page(response)
    assert "正常終了" in page.page_errors()
    assert page.root.by_id("utb-registered").text == "1ANACY27 に通関士証票番号「29-10」を登録しました。"
    assert LicenceRegistration.objects.get(naccs_user_id=colleague, is_current=True).licence_number == "29-10"
    attempt = UtbAttempt.objects.get()
    assert (attempt.channel, attempt.raw_licence_number, attempt.result_code) == (
        "screen",
        "２９－１０",
        "00000",
    )


@pytest.mark.parametrize(
    ("user_id", "licence", "code"),
    [
        ("", "035", "S0001"),
        ("1ANAC", "035", "S0002"),
        ("2BDEFY27", "035", "S0005"),
        ("1ANACZZZ", "035", "S0006"),
        ("1ANACN01", "035", "S0007"),
        ("1ANACY27", "", "L0001"),
        ("1ANACY27", "12a", "L0002"),
    ],
)
def test_the_utb_screen_shows_each_error_code_and_registers_nothing(
    utb_client, office, colleague, user_id, licence, code
):
    NaccsUserIdFactory(contract=office, identifier="N01", is_customs_broker=False)
    NaccsUserIdFactory(contract=ContractFactory(user_code="2BDEF"), identifier="Y27")
    response = utb_client.post(UTB, {"user_id": user_id, "licence_number": licence})
    assert result_code(response) == code
    assert Page(response).root.by_id("utb-registered") is None
    assert not LicenceRegistration.objects.exists()
    assert UtbAttempt.objects.get().result_code == code


def test_the_utb_screen_outside_hours(client, broker, colleague, frozen_clock):
    frozen_clock.move_to(SATURDAY_10)
    utb_client = client
    assert utb_login(utb_client, "1ANACA0A").url == MENU  # the screens open; the businesses answer U0002
    response = utb_client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"})
    assert result_code(response) == "U0002"
    assert result_code(utb_client.get(UTB01)) == "U0002"
    assert not LicenceRegistration.objects.exists()


# --- UTB01 screen ---------------------------------------------------------------------------------------------


def test_utb01_lists_every_broker_id_with_its_number_or_unregistered(
    utb_client, office, colleague, frozen_clock
):
    NaccsUserIdFactory(contract=office, identifier="N01", is_customs_broker=False)
    NaccsUserIdFactory(contract=ContractFactory(user_code="2BDEF"), identifier="Z99")
    utb_client.post(UTB, {"user_id": "1ANACY27", "licence_number": "035"})
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=5))
    utb_client.post(UTB, {"user_id": "1ANACY27", "licence_number": "２９－１０"})

    response = utb_client.get(UTB01)

    assert result_code(response) == "00000"
    table = Page(response).root.by_id("utb01-items")
    rows = [
        [cell.text for cell in row.find_all("td")]
        for row in table.find_all("tr")
        if "data-user-id" in row.attrs
    ]
    # the screen names the processing method (the API gives its code)
    name = ProcessingMethod.objects.get(code="interactive").name
    assert name != "interactive"
    assert rows == [
        ["1ANACA0A", name, "未登録", "—"],
        ["1ANACY27", name, "29-10", "2026/11/16 10:05"],
    ]


# --- the ID notice after a change ----------------------------------------------------------------------------


def test_after_the_change_the_id_notice_says_changed_and_shows_neither_password(client, frozen_clock):
    customer = CustomerFactory(contract=ContractFactory(user_code="1ANAC"))
    application = submitted_application(contract=customer.contract, created_by=customer)
    application_take(application=application, actor=staff_in("reviewer"))
    (issued,) = application_approve(application=application, actor=staff_in("approver"))
    initial = crypto.decrypt(issued.initial_password_encrypted)
    frozen_clock.move_to(datetime.datetime.combine(issued.start_date, datetime.time(10), tzinfo=JST))
    notice_url = reverse("applications:id-notice", args=[application.pk])

    client.force_login(customer)
    before = Page(client.get(notice_url))
    assert initial in before.text
    assert "変更済み" not in [
        node.text for node in before.root.find_all(**{"data-field": "password_changed"})
    ]

    utb = Client()
    assert utb_login(utb, issued.naccs_user_id, initial).url == PASSWORD_URL
    response = utb.post(
        PASSWORD_URL,
        {"current_password": initial, "new_password": "NEW9PASS", "new_password_confirm": "NEW9PASS"},
    )
    assert response.url == MENU

    after = Page(client.get(notice_url))
    row = after.root.find_all("tr", **{"data-issued-id": issued.naccs_user_id})[0]
    assert row.find_all(**{"data-field": "initial_password"}) == []
    assert [node.text for node in row.find_all(**{"data-field": "password_changed"})] == ["変更済み"]
    assert initial not in after.html and "NEW9PASS" not in after.html
    issued = NaccsUserId.objects.get(pk=issued.pk)
    assert issued.initial_password_encrypted == ""  # destroyed with the change (SPEC §10)


# --- the JSON API ---------------------------------------------------------------------------------------------


def test_api_utb_registers_and_answers_the_exact_shape(client, broker, colleague):
    response = api_post(client, {"user_id": "1ANACY27", "licence_number": "２９－１０"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "result_code": "00000",
        "message": "正常終了",
        "user_id": "1ANACY27",
        "licence_number": "29-10",
    }
    assert "Set-Cookie" not in response
    assert not response.cookies
    attempt = UtbAttempt.objects.get()
    assert (attempt.inputter, attempt.channel, attempt.normalised_licence_number) == (broker, "api", "29-10")


@pytest.mark.parametrize(
    ("body", "code", "user_id"),
    [
        ({"licence_number": "035"}, "S0001", ""),
        ({"user_id": None, "licence_number": "035"}, "S0001", ""),
        ({"user_id": "1ANAC", "licence_number": "035"}, "S0002", "1ANAC"),
        ({"user_id": "2BDEFY27", "licence_number": "035"}, "S0005", "2BDEFY27"),
        ({"user_id": "1ANACZZZ", "licence_number": "035"}, "S0006", "1ANACZZZ"),
        ({"user_id": "1ANACN01", "licence_number": "035"}, "S0007", "1ANACN01"),
        ({"user_id": "1ANACY27"}, "L0001", "1ANACY27"),
        ({"user_id": "1ANACY27", "licence_number": "123456"}, "L0002", "1ANACY27"),
    ],
)
def test_api_utb_errors_answer_200_with_the_code_and_a_null_number(
    client, office, colleague, body, code, user_id
):
    NaccsUserIdFactory(contract=office, identifier="N01", is_customs_broker=False)
    NaccsUserIdFactory(contract=ContractFactory(user_code="2BDEF"), identifier="Y27")
    ready_id(office, identifier="A0A")
    response = api_post(client, body)
    assert response.status_code == 200
    assert response.json() == {
        "result_code": code,
        "message": rc.BY_CODE[code].message,
        "user_id": user_id,
        "licence_number": None,
    }
    assert not LicenceRegistration.objects.exists()
    assert "Set-Cookie" not in response


def test_api_utb_outside_hours_answers_u0002(client, broker, colleague, frozen_clock):
    frozen_clock.move_to(datetime.datetime(2026, 11, 20, 23, 0, tzinfo=JST))
    response = api_post(client, {"user_id": "1ANACY27", "licence_number": "035"})
    assert (response.status_code, response.json()["result_code"]) == (200, "U0002")


@pytest.mark.parametrize("value", [12345, 35, 1.5, ["12"], {"n": 1}, True])
def test_api_utb_a_licence_number_that_is_not_a_json_string_is_refused_with_l0002(
    client, broker, colleague, value
):
    response = api_post(client, {"user_id": "1ANACY27", "licence_number": value})
    assert response.status_code == 200
    assert response.json()["result_code"] == "L0002"
    assert response.json()["licence_number"] is None
    assert not LicenceRegistration.objects.exists()
    assert UtbAttempt.objects.get().result_code == "L0002"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("1ANACA0A", "WRONG123"),
        basic("1ANACZZZ"),
        {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
    ],
    ids=["none", "wrong-password", "unknown-id", "bad-base64", "no-colon", "bearer"],
)
def test_api_bad_credentials_answer_401_with_www_authenticate(client, broker, headers):
    for response in (
        client.post(API_UTB, data="{}", content_type="application/json", **headers),
        client.get(API_UTB01, **headers),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Basic ")
        assert "Set-Cookie" not in response
    assert not LicenceRegistration.objects.exists()


def test_api_does_not_accept_a_utb_session_cookie_instead_of_basic(utb_client, colleague):
    response = utb_client.post(
        API_UTB,
        data=json.dumps({"user_id": "1ANACY27", "licence_number": "035"}),
        content_type="application/json",
    )
    assert response.status_code == 401


def test_api_needs_no_csrf_token_and_sets_no_cookie(broker, colleague):
    client = Client(enforce_csrf_checks=True)
    response = api_post(client, {"user_id": "1ANACY27", "licence_number": "035"})
    assert response.status_code == 200
    assert response.json()["result_code"] == "00000"
    assert "Set-Cookie" not in response
    assert not client.cookies


@pytest.mark.parametrize("raw", ["not json", "{", "", b"\xff\xfe".decode("latin-1"), "[1, 2]", '"035"'])
def test_api_utb_a_body_that_is_not_a_json_object_answers_400(client, broker, raw):
    response = client.post(API_UTB, data=raw, content_type="application/json", **basic("1ANACA0A"))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert not UtbAttempt.objects.exists()


def test_api_utb01_answers_the_exact_shape(client, broker, colleague, office):
    NaccsUserIdFactory(contract=office, identifier="N01", is_customs_broker=False)
    api_post(client, {"user_id": "1ANACY27", "licence_number": "12-7896"})
    response = client.get(API_UTB01, **basic("1ANACA0A"))
    assert response.status_code == 200
    assert "Set-Cookie" not in response
    body = response.json()
    assert body == {
        "result_code": "00000",
        "message": "正常終了",
        "items": [
            {
                "user_id": "1ANACA0A",
                "processing_method": "interactive",
                "licence_number": None,
                "registered_at": None,
            },
            {
                "user_id": "1ANACY27",
                "processing_method": "interactive",
                "licence_number": "7896",
                "registered_at": body["items"][1]["registered_at"],
            },
        ],
    }
    assert datetime.datetime.fromisoformat(body["items"][1]["registered_at"]) == FROZEN_AT


def test_api_lockout_refuses_the_right_password_then_unlocks(
    client, broker, colleague, settings, frozen_clock
):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    settings.NSS_UTB_LOCKOUT_MINUTES = 15
    assert client.get(API_UTB01, **basic("1ANACA0A")).status_code == 200  # verified (and cached) once
    for _attempt in range(3):
        assert client.get(API_UTB01, **basic("1ANACA0A", "WRONG123")).status_code == 401
    assert client.get(API_UTB01, **basic("1ANACA0A")).status_code == 401
    assert api_post(client, {"user_id": "1ANACY27", "licence_number": "035"}).status_code == 401
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=14))
    assert client.get(API_UTB01, **basic("1ANACA0A")).status_code == 401
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=15, seconds=1))
    assert client.get(API_UTB01, **basic("1ANACA0A")).status_code == 200


def test_screen_lockout(client, broker, settings, frozen_clock):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 2
    settings.NSS_UTB_LOCKOUT_MINUTES = 5
    utb_login(client, "1ANACA0A", "WRONG123")
    utb_login(client, "1ANACA0A", "WRONG123")
    response = utb_login(client, "1ANACA0A")
    assert response.status_code == 200
    # locked, and told so exactly as a wrong password is (a lock must not show which IDs exist)
    assert Page(response).page_errors() == "利用者IDまたはパスワードが正しくありません。"
    assert UTB_COOKIE not in client.cookies or not client.cookies[UTB_COOKIE].value
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=5, seconds=1))
    assert utb_login(client, "1ANACA0A").url == MENU


@pytest.mark.parametrize("value", ["1ANAC\u200bY27", "1ANACY27\x1b", "\u3164"])
@pytest.mark.parametrize("field", ["user_id", "licence_number"])
def test_the_utb_screen_refuses_invisible_and_control_characters_at_the_field(
    utb_client, colleague, field, value
):
    """The one text check (SPEC §10): such input never reaches the business, so nothing is recorded."""
    data = {"user_id": "1ANACY27", "licence_number": "035", field: value}
    response = utb_client.post(UTB, data)
    assert response.status_code == 200
    assert Page(response).field_errors(field)
    assert not UtbAttempt.objects.exists()
    assert not LicenceRegistration.objects.exists()


# --- English mode -------------------------------------------------------------------------------------------


def test_in_english_the_screens_give_the_result_and_the_processing_method_in_english(utb_client, colleague):
    utb_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = utb_client.get(UTB01)
    assert result_code(response) == "00000"
    page = Page(response)
    assert "正常終了" not in page.text
    assert "Completed" in page.text
    methods = [
        cell.text for cell in page.root.find_all("td") if cell.attrs.get("data-field") == "processing_method"
    ]
    assert methods and set(methods) == {"Interactive processing"}
    refused = Page(utb_client.post(UTB, {"user_id": "", "licence_number": "1"}))
    assert "利用者IDが入力されていません" not in refused.text
    assert "S0001" in refused.text and "No user ID was entered." in refused.text


def test_the_api_answers_in_japanese_whatever_the_client_asks(client, broker, colleague):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(API_UTB01, HTTP_ACCEPT_LANGUAGE="en", **basic("1ANACA0A")).json()
    assert body["message"] == "正常終了"
