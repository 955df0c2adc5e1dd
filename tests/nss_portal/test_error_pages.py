"""The error pages (SPEC §8): Japanese, in the site's layout, with a way back to the start of the area; the UTB JSON
API keeps answering JSON."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from tests.factories import CustomerFactory
from tests.html import Page

pytestmark = pytest.mark.django_db


def test_an_unknown_page_of_the_portal_is_a_japanese_404_with_the_way_back_to_the_menu(customer_client):
    response = customer_client.get("/applications/999999/")
    assert response.status_code == 404
    page = Page(response)
    assert page.screen == "not-found"
    assert "ページが見つかりません" in page.text
    [back] = [a for a in page.root.find_all("a") if a.text.strip() == "メニューに戻る"]
    assert back.attrs["href"] == "/menu/"


def test_a_customer_on_a_staff_page_gets_a_japanese_403_with_the_way_back_into_the_workplace(client):
    client.force_login(CustomerFactory())
    response = client.get("/staff/")
    assert response.status_code == 403
    page = Page(response)
    assert page.screen == "forbidden"
    assert "このページを表示する権限がありません" in page.text
    assert any(a.text.strip() == "審査キューに戻る" for a in page.root.find_all("a"))


def test_an_unknown_utb_screen_leads_back_to_the_utb_menu(client):
    page = Page(client.get("/utb/nothing-here/"))
    assert page.screen == "not-found"
    assert any(a.text.strip() == "UTBメニューに戻る" for a in page.root.find_all("a"))


def test_the_utb_api_answers_its_errors_as_json(client):
    response = client.get("/utb/api/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "not_found"


def test_english_pages_say_it_in_english(customer_client):
    customer_client.cookies["django_language"] = "en"
    page = Page(customer_client.get("/applications/999999/"))
    assert page.screen == "not-found"
    assert "ページが見つかりません" not in page.text


def _fails(request):
    raise RuntimeError("boom")


urlpatterns = [path("fails/", _fails), path("utb/api/fails", _fails)]
handler500 = "nss_portal.errors.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_a_japanese_page_that_touches_nothing_of_the_request():
    client = Client(raise_request_exception=False)
    response = client.get("/fails/")
    assert response.status_code == 500
    page = Page(response)
    assert page.screen == "server-error"
    assert "システムエラーが発生しました" in page.text
    api = client.get("/utb/api/fails")
    assert api.status_code == 500 and api.json()["error"] == "server_error"
