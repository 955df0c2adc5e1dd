"""The client address the login lockouts key on (nss_portal/client_address.py)."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from nss_portal.client_address import client_address

factory = RequestFactory()


def address(forwarded: str | None, remote: str = "172.18.0.5") -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(factory.get("/", REMOTE_ADDR=remote, **extra))


def test_without_a_proxy_the_forwarded_header_is_never_believed(settings):
    settings.NSS_TRUSTED_PROXY_COUNT = 0
    assert address("203.0.113.9") == "172.18.0.5"
    assert address(None) == "172.18.0.5"


def test_behind_one_proxy_the_entry_it_appended_is_the_client(settings):
    settings.NSS_TRUSTED_PROXY_COUNT = 1
    assert address("203.0.113.9") == "203.0.113.9"
    # What the client wrote itself (left of the proxy's entry) is ignored.
    assert address("6.6.6.6, 203.0.113.9") == "203.0.113.9"
    assert address(" 2001:db8::1 ") == "2001:db8::1"


def test_behind_two_proxies_the_second_entry_from_the_right(settings):
    settings.NSS_TRUSTED_PROXY_COUNT = 2
    assert address("6.6.6.6, 203.0.113.9, 10.0.0.2") == "203.0.113.9"
    assert address("10.0.0.2") == "172.18.0.5"  # fewer entries than proxies: not trusted


@given(forwarded=st.text(max_size=200))
def test_a_hostile_header_gives_an_ip_address_or_the_peer(forwarded):
    from django.conf import settings

    previous, settings.NSS_TRUSTED_PROXY_COUNT = settings.NSS_TRUSTED_PROXY_COUNT, 1
    try:
        value = address(forwarded.replace("\x00", ""))
    finally:
        settings.NSS_TRUSTED_PROXY_COUNT = previous
    import ipaddress

    ipaddress.ip_address(value)


@pytest.mark.django_db
def test_behind_the_proxy_a_stranger_locking_out_an_account_does_not_lock_its_owner(settings, customer):
    """django-axes keys the portal login lockout on the address this module gives."""
    settings.NSS_TRUSTED_PROXY_COUNT = 1
    customer.set_password("the-right-password")
    customer.save()
    proxy = {"REMOTE_ADDR": "172.18.0.5"}
    attacker, owner = Client(**proxy), Client(**proxy)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        attacker.post(
            reverse("login"),
            {"username": customer.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    locked = attacker.post(
        reverse("login"),
        {"username": customer.username, "password": "the-right-password"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert locked.status_code == 429
    answered = owner.post(
        reverse("login"),
        {"username": customer.username, "password": "the-right-password"},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert answered.status_code == 302
