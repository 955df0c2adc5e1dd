"""Who reaches the staff workplace (SPEC §4): staff log in with password and TOTP; customers never reach staff
pages and staff never log in as customers; `next` stays local; CSRF guards every staff action."""

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import ApplicationStatus
from reviews import services as review_services
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    StaffFactory,
    add_totp_device,
    otp_login,
    role_group,
    staff_with_device,
    submitted_application,
    totp_code,
)
from tests.html import Page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

STAFF_LOGIN_ERROR = "ユーザーID、パスワードまたは確認コードが正しくありません。"
CUSTOMER_LOGIN_ERROR = "ユーザーIDまたはパスワードが正しくありません。"


def other_code(user) -> str:
    """A well-formed code that is not valid now (nor one step either side)."""
    device = TOTPDevice.objects.get(user=user)
    key = bytes.fromhex(device.key)
    near = {
        f"{totp(key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"
        for drift in (-1, 0, 1)
    }
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def staff_login(client, username, password=PASSWORD, otp_token=None, next_url=None):
    data = {"username": username, "password": password}
    if otp_token is not None:
        data["otp_token"] = otp_token
    url = reverse("reviews:login")
    if next_url is not None:
        data["next"] = next_url
    return client.post(url, data)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def login_redirect_of(url: str) -> str:
    return f"{reverse('reviews:login')}?{urlencode({'next': url})}"


# --- staff login with TOTP -------------------------------------------------------------------------


def test_staff_login_page_has_the_three_fields(client):
    response = client.get(reverse("reviews:login"))
    page = Page(response)
    assert page.screen == "staff-login"
    assert page.control_labelled("ユーザーID").attrs["name"] == "username"
    assert page.control_labelled("パスワード").attrs["type"] == "password"
    assert page.control_labelled("確認コード（認証アプリの6桁）").attrs["name"] == "otp_token"


def test_staff_login_with_password_and_the_right_code(client, reviewer):
    response = staff_login(client, reviewer.username, otp_token=totp_code(reviewer))
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:queue")
    assert logged_in(client)
    assert client.get(reverse("reviews:queue")).status_code == 200


def test_a_full_width_code_is_accepted(client, reviewer):
    code = "".join(chr(ord(c) + 0xFEE0) for c in totp_code(reviewer))
    assert staff_login(client, reviewer.username, otp_token=code).status_code == 302
    assert logged_in(client)


def _refused(client, response):
    assert response.status_code == 200
    page = Page(response)
    assert page.screen == "staff-login"
    assert STAFF_LOGIN_ERROR in page.page_errors()
    assert not logged_in(client)
    assert client.get(reverse("reviews:queue")).status_code == 302


def test_a_wrong_code_is_refused(client, reviewer):
    _refused(client, staff_login(client, reviewer.username, otp_token=other_code(reviewer)))


@pytest.mark.parametrize("otp_token", [None, "", "   "])
def test_a_missing_code_is_refused_without_telling_whether_the_password_was_right(
    client, reviewer, otp_token
):
    # An empty code is a plain "required" error on the code field (nothing to hide: the user left it empty) …
    right = staff_login(client, reviewer.username, otp_token=otp_token)
    assert right.status_code == 200
    assert Page(right).screen == "staff-login"
    assert Page(right).field_errors("otp_token").strip()
    assert not logged_in(client)
    assert client.get(reverse("reviews:queue")).status_code == 302
    # … and the page is the same whether the password was right or wrong: nothing is revealed.
    wrong = staff_login(client, reviewer.username, password="wrong", otp_token=otp_token)
    assert Page(wrong).page_errors() == Page(right).page_errors()
    assert Page(wrong).field_errors("otp_token") == Page(right).field_errors("otp_token")


def test_a_wrong_password_with_the_right_code_is_refused_with_the_same_message(client, reviewer):
    _refused(client, staff_login(client, reviewer.username, password="wrong", otp_token=totp_code(reviewer)))


def test_an_unknown_user_is_refused_with_the_same_message(client):
    _refused(client, staff_login(client, "nobody", otp_token="123456"))


def test_a_replayed_code_is_refused(client, reviewer):
    code = totp_code(reviewer)
    assert staff_login(client, reviewer.username, otp_token=code).status_code == 302
    other = Client()
    _refused(other, staff_login(other, reviewer.username, otp_token=code))


def test_staff_without_a_confirmed_device_cannot_log_in(client):
    user = StaffFactory()
    user.groups.add(role_group("reviewer"))
    device = add_totp_device(user)
    device.confirmed = False
    device.save()
    _refused(client, staff_login(client, user.username, otp_token=totp_code(user)))


def test_an_inactive_staff_member_cannot_log_in(client):
    user = staff_with_device("reviewer", is_active=False)
    _refused(client, staff_login(client, user.username, otp_token=totp_code(user)))


def test_a_customer_cannot_log_in_at_the_staff_login_even_with_a_device(client):
    customer = CustomerFactory()
    add_totp_device(customer)
    _refused(client, staff_login(client, customer.username, otp_token=totp_code(customer)))


def test_a_staff_member_cannot_log_in_at_the_customer_login(client, reviewer):
    response = client.post(reverse("login"), {"username": reviewer.username, "password": PASSWORD})
    assert response.status_code == 200
    assert CUSTOMER_LOGIN_ERROR in Page(response).page_errors()
    assert not logged_in(client)


# --- who reaches /staff/ ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_staff_login_with_next(client):
    application = submitted_application()
    for url in (reverse("reviews:queue"), reverse("reviews:application", kwargs={"pk": application.pk})):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == login_redirect_of(url)


def test_anonymous_posts_change_nothing(client):
    application = submitted_application()
    response = client.post(reverse("reviews:take", kwargs={"pk": application.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reviews:login"))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_staff_logged_in_without_otp_is_sent_to_the_staff_login(client, reviewer):
    client.force_login(reviewer)
    application = submitted_application()
    url = reverse("reviews:queue")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == login_redirect_of(url)
    response = client.post(reverse("reviews:take", kwargs={"pk": application.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reviews:login"))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_staff_without_the_review_permission_gets_403(client):
    user = staff_with_device(None)
    otp_login(client, user)
    application = submitted_application()
    assert client.get(reverse("reviews:queue")).status_code == 403
    assert client.get(reverse("reviews:application", kwargs={"pk": application.pk})).status_code == 403
    assert client.post(reverse("reviews:take", kwargs={"pk": application.pk})).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


# --- next ------------------------------------------------------------------------------------------


def test_next_is_honoured_for_a_local_url(client, reviewer):
    application = submitted_application()
    target = reverse("reviews:application", kwargs={"pk": application.pk})
    response = staff_login(client, reviewer.username, otp_token=totp_code(reviewer), next_url=target)
    assert response.status_code == 302
    assert response["Location"] == target


def test_next_from_the_query_string_is_honoured(client, reviewer):
    application = submitted_application()
    target = reverse("reviews:application", kwargs={"pk": application.pk})
    login_page = Page(client.get(login_redirect_of(target)))
    login_form = login_page.form_of("ログイン")
    assert [node.attrs["value"] for node in login_form.find_all("input", name="next")] == [target]
    response = client.post(
        login_redirect_of(target),
        {"username": reviewer.username, "password": PASSWORD, "otp_token": totp_code(reviewer)},
    )
    assert response["Location"] == target


@pytest.mark.parametrize(
    "target", ["https://evil.example/staff/", "//evil.example/", "http://evil.example", "https:evil.example"]
)
def test_an_external_next_is_ignored(client, reviewer, target):
    response = staff_login(client, reviewer.username, otp_token=totp_code(reviewer), next_url=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:queue")
    assert logged_in(client)


# --- CSRF ------------------------------------------------------------------------------------------


def _csrf_client(reviewer) -> Client:
    csrf_client = Client(enforce_csrf_checks=True)
    page = csrf_client.get(reverse("reviews:login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = csrf_client.post(
        reverse("reviews:login"),
        {
            "username": reviewer.username,
            "password": PASSWORD,
            "otp_token": totp_code(reviewer),
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    return csrf_client


def _page_token(client, application) -> str:
    html = client.get(reverse("reviews:application", kwargs={"pk": application.pk})).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_staff_login_itself_needs_the_csrf_token(reviewer):
    csrf_client = Client(enforce_csrf_checks=True)
    response = staff_login(csrf_client, reviewer.username, otp_token=totp_code(reviewer))
    assert response.status_code == 403
    assert not logged_in(csrf_client)


@pytest.mark.parametrize("action", ["take", "approve", "reject", "notice"])
def test_every_staff_action_needs_the_csrf_token(reviewer, action):
    csrf_client = _csrf_client(reviewer)
    application = submitted_application()
    if action in {"approve", "reject"}:
        review_services.application_take(application=application, actor=reviewer)
    application.refresh_from_db()
    before = (application.status, application.notices.count())
    data = {
        "start_date": application.desired_start_date.isoformat(),
        "seen_status": application.status,
        "reason": "書類不備",
        "text": "確認中です。",
    }
    if action == "approve":
        plan = review_services.approval_plan(
            application=application, actor=reviewer, start_date=application.desired_start_date
        )
        data["confirmation"] = plan.confirmation
    url = reverse(f"reviews:{action}", kwargs={"pk": application.pk})

    assert csrf_client.post(url, data).status_code == 403
    application.refresh_from_db()
    assert (application.status, application.notices.count()) == before

    # the same request with the page's token goes through: the 403 above was CSRF, not something else
    response = csrf_client.post(url, {**data, "csrfmiddlewaretoken": _page_token(csrf_client, application)})
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.notices.count()) != before
