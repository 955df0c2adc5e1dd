"""HEAD answers wherever GET does (load balancers and link checkers send it): the same status and headers, no
body. Applications/views that are GET-only use `require_safe`."""

import pytest
from django.urls import reverse

from tests.factories import otp_login, submitted_application

pytestmark = pytest.mark.django_db


def assert_head_like_get(client, url: str) -> None:
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code == 200, url
    assert head.content == b"", url
    assert head["Content-Type"] == got["Content-Type"], url


@pytest.mark.parametrize("name", ["healthz", "readyz", "login"])
def test_head_on_public_pages(client, name):
    assert_head_like_get(client, reverse(name))


def test_head_on_the_customer_pages(customer_client, customer):
    application = submitted_application(contract=customer.contract)
    for url in (
        reverse("menu"),
        reverse("guidance"),
        reverse("applications:application-list"),
        reverse("applications:application-detail", kwargs={"pk": application.pk}),
        reverse("applications:complete", kwargs={"pk": application.pk}),
    ):
        assert_head_like_get(customer_client, url)


def test_head_on_the_staff_pages(client, reviewer):
    staff = otp_login(client, reviewer)
    application = submitted_application()
    for url in (reverse("reviews:queue"), reverse("reviews:application", kwargs={"pk": application.pk})):
        assert_head_like_get(staff, url)


def test_head_is_still_refused_where_only_post_is_allowed(customer_client, customer):
    application = submitted_application(contract=customer.contract)
    response = customer_client.head(reverse("reviews:take", kwargs={"pk": application.pk}))
    assert response.status_code == 405
