"""Who is calling the UTB gateway: the 利用者ID of a screen session, or of the API's HTTP Basic credentials, and the
client address its login attempts are counted against.

The screen session (utb_gateway/session.py) holds one 利用者ID, bound to an HMAC of that ID's password hash, so a
password change elsewhere ends it. The API authenticates every request with HTTP Basic and sets no cookie. The
rules (lockout, equal answers for every refusal) are services.naccs_id_authenticate's; this module only reads the
request and shapes the answer.
"""

import base64
import hashlib
import hmac
from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from applications.models import NaccsUserId

from . import services
from .session import with_utb_session

SESSION_ID = "utb_naccs_id"
SESSION_BINDING = "utb_binding"


def client_address(request) -> str | None:
    """The client address as django-axes sees it (AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or the trusted proxies'
    X-Forwarded-For entry), so the portal's logins and the gateway's agree on who is guessing."""
    return get_client_ip_address(request)


# Screen session ---------------------------------------------------------------------------------------------


def _binding(naccs_id: NaccsUserId) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), naccs_id.password_hash.encode(), hashlib.sha256).hexdigest()


def session_log_in(request, naccs_id: NaccsUserId) -> None:
    request.utb_session.cycle_key()
    request.utb_session[SESSION_ID] = naccs_id.pk
    request.utb_session[SESSION_BINDING] = _binding(naccs_id)


def session_rebind(request, naccs_id: NaccsUserId) -> None:
    """After the session's own password change: keep this session, while every other one of the ID ends."""
    request.utb_session[SESSION_BINDING] = _binding(naccs_id)


def session_log_out(request) -> None:
    request.utb_session.pop(SESSION_ID, None)
    request.utb_session.pop(SESSION_BINDING, None)


def _session_naccs_id(request) -> NaccsUserId | None:
    pk = request.utb_session.get(SESSION_ID)
    if not pk:
        return None
    naccs_id = NaccsUserId.objects.select_related("contract", "processing_method").filter(pk=pk).first()
    if naccs_id is None or not hmac.compare_digest(
        request.utb_session.get(SESSION_BINDING, ""), _binding(naccs_id)
    ):
        request.utb_session.pop(SESSION_ID, None)
        return None
    return naccs_id


def utb_login_required(view):
    @with_utb_session
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        naccs_id = _session_naccs_id(request)
        if naccs_id is None:
            return redirect("utb_gateway:login")
        request.naccs_id = naccs_id
        return view(request, *args, **kwargs)

    return wrapper


# HTTP Basic (the API) -----------------------------------------------------------------------------------------


def basic_credentials(request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError; so is non-ASCII input
        return None
    user_id, sep, password = decoded.partition(":")
    return (user_id, password) if sep else None


def unauthorized() -> JsonResponse:
    """The one answer to every refused credential: missing, malformed, unknown ID, wrong password, locked."""
    response = JsonResponse(
        {"error": "unauthorized", "message": _("利用者IDまたはパスワードが正しくありません。")},
        status=401,
        json_dumps_params={"ensure_ascii": False},
    )
    response["WWW-Authenticate"] = 'Basic realm="NACCS UTB", charset="UTF-8"'
    return response


def api_authenticated(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        credentials = basic_credentials(request)
        if credentials is None:
            return unauthorized()
        try:
            request.naccs_id = services.naccs_id_authenticate(
                user_id=credentials[0], password=credentials[1], client_address=client_address(request)
            )
        except services.UtbLoginError:
            return unauthorized()
        return view(request, *args, **kwargs)

    return wrapper
