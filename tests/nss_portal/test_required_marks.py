"""Required fields are marked one way everywhere (issue: "a way a screen reader reads as 必須, not asterisk"):
every label of a required control carries the one mark of templates/_partials/required_mark.html — a "*" hidden
from screen readers — and the control itself is `required`, which screen readers announce as 必須."""

import pytest
from django.urls import reverse

from tests.factories import DraftFactory, otp_login
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def assert_marked_one_way(response) -> int:
    page = Page(response)
    controls = {
        node.attrs["id"]: node
        for node in page.root.iter()
        if node.tag in {"input", "select", "textarea"} and "id" in node.attrs
    }
    checked = 0
    for label in page.root.find_all("label"):
        control = controls.get(label.attrs.get("for", ""))
        if control is None:
            continue
        marks = [span for span in label.find_all("span") if "asteriskField" in span.classes]
        if "required" in control.attrs or control.attrs.get("aria-required") == "true":
            assert len(marks) == 1, f"{label.text}: required but not marked"
            assert marks[0].attrs.get("aria-hidden") == "true", f"{label.text}: the mark would be read out"
            checked += 1
        else:
            assert not marks, f"{label.text}: marked but not required"
        # no other star a screen reader would read out
        visible_text = label.text.replace(marks[0].text, "", 1) if marks else label.text
        assert "*" not in visible_text, label.text
    return checked


def test_the_portal_login_and_the_utb_login(client):
    assert assert_marked_one_way(client.get(reverse("login"))) == 2
    assert assert_marked_one_way(client.get(reverse("utb_gateway:login"))) >= 2


def test_the_filing_screens(customer_client, customer):
    draft = DraftFactory(contract=customer.contract, created_by=customer, items=0)
    for name in ("applications:applicant", "applications:add-ids"):
        assert assert_marked_one_way(customer_client.get(reverse(name, kwargs={"pk": draft.pk}))) >= 1


def test_the_staff_screens(client, approver):
    assert assert_marked_one_way(client.get(reverse("reviews:login"))) == 3
    otp_login(client, approver)
    assert assert_marked_one_way(client.get(reverse("reviews:accounts"))) >= 3
