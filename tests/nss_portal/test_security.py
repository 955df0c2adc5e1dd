"""Hardening: security headers and CSP, cookie flags, login lockout, CSRF everywhere but the Basic-auth API,
and `check --deploy` clean with the production profile."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PASSWORD, CustomerFactory, otp_login, staff_with_device, totp_code

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_carries_a_csp_without_unsafe_inline_and_the_other_headers(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the CSP would block must not be in the templates in the first place."""
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.parts[-2] == "notifications":
            continue  # e-mail bodies are not served by the portal
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)", r"\sstyle=", r"\son[a-z]+="):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_samesite(client, customer):
    response = client.post(reverse("login"), {"username": customer.username, "password": PASSWORD})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    page = Client().get(reverse("login"))
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


@pytest.mark.django_db
def test_the_portal_login_locks_after_the_failure_limit(client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post(
            reverse("login"), {"username": customer.username, "password": "wrong-password"}
        )
    assert response.status_code == 429
    assert "ログインに続けて失敗したため" in response.content.decode()
    # Even the right password is refused while locked …
    response = client.post(reverse("login"), {"username": customer.username, "password": PASSWORD})
    assert response.status_code == 429
    # … for this account only: another account from the same address still logs in.
    other = CustomerFactory(contract=customer.contract)
    response = client.post(reverse("login"), {"username": other.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_staff_login_counts_wrong_codes_towards_the_lockout(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff = staff_with_device("reviewer")
    wrong = "000000" if totp_code(staff) != "000000" else "111111"
    for _ in range(3):
        client.post(
            reverse("reviews:login"), {"username": staff.username, "password": PASSWORD, "otp_token": wrong}
        )
    response = client.post(
        reverse("reviews:login"),
        {"username": staff.username, "password": PASSWORD, "otp_token": totp_code(staff)},
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        client.post(reverse("login"), {"username": customer.username, "password": "wrong-password"})
    assert (
        client.post(reverse("login"), {"username": customer.username, "password": PASSWORD}).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(2):
        client.post(reverse("login"), {"username": customer.username, "password": "wrong-password"})
    assert (
        client.post(reverse("login"), {"username": customer.username, "password": PASSWORD}).status_code
        == 302
    )


def _views():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(
                    pattern.url_patterns, prefix + (f"{pattern.namespace}:" if pattern.namespace else "")
                )
            elif isinstance(pattern, URLPattern):
                yield prefix + (pattern.name or repr(pattern.pattern)), pattern.callback

    return list(walk(get_resolver().url_patterns))


# Only the UTB JSON API is exempt: it authenticates every request with HTTP Basic and sets no cookie, so there is
# no ambient credential a forged cross-site request could ride on.
CSRF_EXEMPT_ALLOWED = {"utb_gateway:api-utb", "utb_gateway:api-utb01"}


def test_no_view_is_csrf_exempt_except_the_basic_auth_api():
    exempt = {name for name, callback in _views() if getattr(callback, "csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT_ALLOWED


@pytest.mark.django_db
def test_state_changing_posts_without_a_csrf_token_are_refused(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    for url in (reverse("applications:start"), reverse("logout")):
        assert client.post(url).status_code == 403, url
    logged_in = otp_login(Client(), staff_with_device("reviewer"))
    staff_client = Client(enforce_csrf_checks=True)
    staff_client.cookies = logged_in.cookies  # the OTP-verified staff session, without a CSRF token
    assert staff_client.post(reverse("reviews:take", kwargs={"pk": 1})).status_code == 403


# `check --deploy` with the production profile, and every refusal of a production without its secrets:
# tests/nss_portal/test_production.py.


@pytest.mark.django_db
def test_there_is_no_django_admin_not_even_for_a_superuser(client):
    """Every change goes through the staff workplace's services (roles, four-eyes, locks, audit): no second way
    in (docs/decisions.md). /admin/ is an unknown page, whoever asks."""
    from django.apps import apps

    from tests.factories import StaffFactory

    client.force_login(StaffFactory(is_superuser=True))
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404
    assert not apps.is_installed("django.contrib.admin")
