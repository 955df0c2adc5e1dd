"""What the UTB gateway accepts before any business runs (SPEC §10): only JSON bodies on the API, so no cross-site
form can drive it, and HEAD wherever GET works."""

import json

import pytest
from django.test import Client

from tests.factories import ContractFactory, NaccsUserIdFactory
from tests.utb_gateway import READY_PASSWORD, ready_id
from tests.utb_gateway.test_views import API_UTB, API_UTB01, LOGIN, MENU, UTB, UTB01, basic, utb_login
from utb_gateway.models import LicenceRegistration, UtbAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

BODY = json.dumps({"user_id": "1ANACY27", "licence_number": "035"})


@pytest.fixture
def broker():
    office = ContractFactory(user_code="1ANAC")
    NaccsUserIdFactory(contract=office, identifier="Y27")
    return ready_id(office, identifier="A0A")


# --- 415 for anything but application/json -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/jsonx",
        "",
    ],
)
def test_a_body_that_is_not_declared_json_is_refused_with_415_and_nothing_is_recorded(
    client, broker, content_type
):
    """A cross-site form can send text/plain or form-urlencoded with the broker's Basic credentials; its JSON
    body must never register a licence number."""
    response = client.post(API_UTB, data=BODY, content_type=content_type, **basic("1ANACA0A"))

    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["error"] == "unsupported_media_type"
    assert "application/json" in answer["message"]
    assert not LicenceRegistration.objects.exists()
    assert not UtbAttempt.objects.exists()


def test_a_multipart_form_post_is_refused_with_415(broker):
    """What a browser's plain <form method="post"> sends (the test client's default for a dict)."""
    response = Client().post(API_UTB, {"user_id": "1ANACY27", "licence_number": "035"}, **basic("1ANACA0A"))
    assert response.status_code == 415
    assert not UtbAttempt.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"]
)
def test_application_json_with_parameters_and_in_any_case_is_accepted(client, broker, content_type):
    response = client.post(API_UTB, data=BODY, content_type=content_type, **basic("1ANACA0A"))
    assert response.status_code == 200
    assert response.json()["result_code"] == "00000"
    assert LicenceRegistration.objects.get(is_current=True).licence_number == "035"


def test_the_415_and_400_answers_have_the_same_shape(client, broker):
    refused = client.post(API_UTB, data=BODY, content_type="text/plain", **basic("1ANACA0A")).json()
    bad = client.post(API_UTB, data="{", content_type="application/json", **basic("1ANACA0A")).json()
    assert set(refused) == set(bad) == {"error", "message"}


# --- HEAD works where GET does --------------------------------------------------------------------------------


def _same_but_empty(get, head):
    assert head.status_code == get.status_code
    assert head["Content-Type"] == get["Content-Type"]
    assert head.get("Location") == get.get("Location")
    assert head.content == b""
    if get.status_code == 200:
        assert get.content  # GET did answer a body: HEAD left it out


@pytest.mark.parametrize("url", [LOGIN, MENU, UTB, UTB01, "/utb/password/"])
def test_head_answers_like_get_on_the_screens(client, broker, url):
    _same_but_empty(client.get(url), client.head(url))  # logged out: the login page, or a redirect to it
    assert utb_login(client, "1ANACA0A").url == MENU
    get, head = client.get(url), client.head(url)
    assert get.status_code == 200
    _same_but_empty(get, head)


def test_head_answers_like_get_on_the_api(client, broker):
    get = client.get(API_UTB01, **basic("1ANACA0A"))
    head = client.head(API_UTB01, **basic("1ANACA0A"))
    assert get.status_code == 200
    _same_but_empty(get, head)
    refused_get = client.get(API_UTB01, **basic("1ANACA0A", "WRONG123"))
    refused_head = client.head(API_UTB01, **basic("1ANACA0A", "WRONG123"))
    assert refused_get.status_code == 401
    _same_but_empty(refused_get, refused_head)
    assert refused_head["WWW-Authenticate"] == refused_get["WWW-Authenticate"]


def test_head_on_the_post_only_api_is_still_405(client, broker):
    assert client.head(API_UTB, **basic("1ANACA0A")).status_code == 405
    assert client.get(API_UTB, **basic("1ANACA0A", READY_PASSWORD)).status_code == 405


def test_an_empty_post_without_a_content_type_is_not_json_400(client, broker):
    """No body, nothing to declare: 400 (not JSON) like an empty application/json body, not 415."""
    response = client.generic("POST", API_UTB, b"", **basic("1ANACA0A"))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert not UtbAttempt.objects.exists()


# --- credentials read only where they are checked --------------------------------------------------------------


def test_the_api_reads_the_inputters_password_hash_and_no_other_credential(client, broker):
    """A registration and a UTB01 listing read the hash of the ID that logs in (to check its password) and
    nothing else of anyone's credentials: not the target's hash, no initial-password ciphertext, none of the
    office's other brokers' (the gateway never shows an initial password)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        registered = client.post(API_UTB, data=BODY, content_type="application/json", **basic("1ANACA0A"))
        listed = client.get(API_UTB01, **basic("1ANACA0A"))
    assert registered.json()["result_code"] == "00000"
    assert [item["licence_number"] for item in listed.json()["items"]] == [None, "035"]
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "initial_password_encrypted" in sql]
    reading_hashes = [sql for sql in statements if "password_hash" in sql]
    # One lookup of the inputter per request, each by its own 利用者コード and 識別番号.
    assert len(reading_hashes) == 2 and all("'A0A'" in sql for sql in reading_hashes)
