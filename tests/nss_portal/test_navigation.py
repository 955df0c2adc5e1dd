"""Finding one's way (SPEC §3): every customer screen has a way to the menu, and going to another screen is a
link (an <a>: a URL without a trailing "?", openable in a new tab), never a form that posts or gets nothing."""

import pytest
from django.urls import reverse

from applications import clock, rules, services
from reviews import services as review_services
from tests.factories import DraftFactory, staff_in
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def screens(customer):
    """Every customer screen, by its data-screen, with the URL that shows it."""
    draft = DraftFactory(contract=customer.contract, created_by=customer)
    filed = DraftFactory(
        contract=customer.contract, desired_start_date=rules.earliest_start_date(clock.today())
    )
    filed = services.application_submit(application=filed)
    review_services.application_take(application=filed, actor=staff_in("reviewer"))
    review_services.application_approve(application=filed, actor=staff_in("approver"))
    pk = {"pk": draft.pk}
    return {
        "menu": reverse("menu"),
        "guidance": reverse("guidance"),
        "applicant": reverse("applications:applicant", kwargs=pk),
        "add-ids": reverse("applications:add-ids", kwargs=pk),
        "confirm": reverse("applications:confirm", kwargs=pk),
        "discard": reverse("applications:discard", kwargs=pk),
        "complete": reverse("applications:complete", kwargs={"pk": filed.pk}),
        "application-list": reverse("applications:application-list"),
        "application-detail": reverse("applications:application-detail", kwargs={"pk": filed.pk}),
        "id-notice": reverse("applications:id-notice", kwargs={"pk": filed.pk}),
        "office-accounts": reverse("office-accounts"),
        "not-found": "/applications/999999/",
    }


def test_every_customer_screen_has_the_way_to_the_menu_and_no_get_form(customer_client, customer, screens):
    customer.is_office_admin = True
    customer.save()
    for screen, url in screens.items():
        response = customer_client.get(url)
        page = Page(response)
        assert page.screen == screen, (url, response.status_code)
        nav = page.root.find_all("nav", **{"aria-label": "お客様メニュー"})
        assert len(nav) == 1, screen
        links = {link.text: link.attrs for link in nav[0].find_all("a")}
        assert links["メニュー"]["href"] == reverse("menu"), screen
        assert links["申込状況一覧"]["href"] == reverse("applications:application-list"), screen
        assert ("aria-current" in links["メニュー"]) == (screen == "menu"), screen
        assert ("aria-current" in links["申込状況一覧"]) == (screen == "application-list"), screen
        get_forms = [form for form in page.root.find_all("form") if form.attrs.get("method", "get") == "get"]
        assert get_forms == [], f"{screen}: a GET form where a link belongs"


def test_the_second_step_of_the_login_offers_no_way_in_yet(client, customer):
    customer.contract.customer_totp_required = True
    customer.contract.save()
    client.force_login(customer)
    page = Page(client.get(reverse("login-otp")))
    assert page.screen == "login-otp"
    assert page.root.find_all("nav", **{"aria-label": "お客様メニュー"}) == []


def test_staff_and_visitors_get_no_customer_navigation(client, staff_client):
    page = Page(staff_client.get(reverse("reviews:queue")))
    assert page.root.find_all("nav", **{"aria-label": "お客様メニュー"}) == []
    anonymous = Page(type(client)().get(reverse("login")))
    assert anonymous.root.find_all("nav", **{"aria-label": "お客様メニュー"}) == []
