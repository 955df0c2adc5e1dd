"""The UTB gateway's screens (in the style of the package software) and its JSON API (SPEC §6).

Its login is separate from the portal's: a session of its own (utb_gateway/session.py) holding one 利用者ID, bound to
that ID's password hash so a password change elsewhere ends it. The API authenticates every request with HTTP Basic and sets no cookie."""

import base64
import hashlib
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import clock
from applications.models import NaccsUserId
from applications.validators import text_problem

from . import result_codes as rc
from . import services
from .forms import NaccsPasswordChangeForm, UtbLoginForm, UtbRegistrationForm
from .session import with_utb_session

SESSION_ID = "utb_naccs_id"
SESSION_BINDING = "utb_binding"


def _binding(naccs_id: NaccsUserId) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), naccs_id.password_hash.encode(), hashlib.sha256).hexdigest()


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
    def wrapper(request, *args, **kwargs):
        naccs_id = _session_naccs_id(request)
        if naccs_id is None:
            return redirect("utb_gateway:login")
        request.naccs_id = naccs_id
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_http_methods(["GET", "POST"])
@with_utb_session
def login(request):
    """NACCS ログイン: a 利用者ID and its password. A temporary password leads straight to the password change."""
    form = UtbLoginForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            naccs_id = services.naccs_id_authenticate(
                user_id=form.cleaned_data["user_id"], password=form.cleaned_data["password"]
            )
        except services.UtbLoginError as exc:
            error = exc.message
        else:
            if not services.naccs_id_may_log_in(naccs_id, today=clock.today()):
                error = rc.U0001.message
            else:
                request.utb_session.cycle_key()
                request.utb_session[SESSION_ID] = naccs_id.pk
                request.utb_session[SESSION_BINDING] = _binding(naccs_id)
                if naccs_id.password_changed_at is None:
                    return redirect("utb_gateway:password")
                return redirect("utb_gateway:menu")
    return render(request, "utb_gateway/login.html", {"form": form, "error": error})


@require_POST
@with_utb_session
def logout(request):
    request.utb_session.pop(SESSION_ID, None)
    request.utb_session.pop(SESSION_BINDING, None)
    return redirect("utb_gateway:login")


@require_GET
@utb_login_required
def menu(request):
    return render(request, "utb_gateway/menu.html", {"naccs_id": request.naccs_id})


@require_http_methods(["GET", "POST"])
@utb_login_required
def utb(request):
    """UTB 通関士証票番号登録."""
    form = UtbRegistrationForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.licence_number_register(
            inputter=request.naccs_id,
            target_user_id=form.cleaned_data["user_id"],
            raw_licence_number=form.cleaned_data["licence_number"],
            channel="screen",
        )
    return render(
        request, "utb_gateway/utb.html", {"form": form, "result": result, "naccs_id": request.naccs_id}
    )


@require_GET
@utb_login_required
def utb01(request):
    """UTB01 通関士証票番号照会."""
    code, items = services.utb01_list(inputter=request.naccs_id)
    return render(
        request, "utb_gateway/utb01.html", {"result": code, "items": items, "naccs_id": request.naccs_id}
    )


@require_http_methods(["GET", "POST"])
@utb_login_required
def password(request):
    """パスワード変更 (NACCS rule)."""
    form = NaccsPasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.naccs_password_change(
                naccs_id=request.naccs_id,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except services.UtbPasswordError as exc:
            form.add_error(exc.field, exc.message)
        else:
            request.utb_session[SESSION_BINDING] = _binding(changed)
            messages.success(request, _("パスワードを変更しました。"))
            return redirect("utb_gateway:menu")
    temporary = request.naccs_id.password_changed_at is None
    return render(
        request,
        "utb_gateway/password.html",
        {"form": form, "temporary": temporary, "naccs_id": request.naccs_id},
    )


# JSON API ---------------------------------------------------------------------------------------------------


def _basic_credentials(request) -> tuple[str, str] | None:
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


def _unauthorized() -> JsonResponse:
    response = JsonResponse(
        {"error": "unauthorized", "message": _("利用者IDまたはパスワードが正しくありません。")}, status=401
    )
    response["WWW-Authenticate"] = 'Basic realm="NACCS UTB", charset="UTF-8"'
    return response


def api_authenticated(view):
    def wrapper(request, *args, **kwargs):
        credentials = _basic_credentials(request)
        if credentials is None:
            return _unauthorized()
        try:
            request.naccs_id = services.naccs_id_authenticate(user_id=credentials[0], password=credentials[1])
        except services.UtbLoginError:
            return _unauthorized()
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _json_text(value) -> str:
    """The fields are text. A JSON number has already lost what matters (035 arrives as 35), so anything but a
    string is kept for the record but can never pass validation."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{json.dumps(value, ensure_ascii=False)[:80]} (not a string)"


@csrf_exempt
@require_POST
@api_authenticated
def api_utb(request):
    """POST /utb/api/utb {"user_id": "1ANACY27", "licence_number": "２９－１０"} → result code (HTTP 200)."""
    try:
        body = json.loads(request.body.decode("utf-8"))
    # ValueError covers JSONDecodeError and integers too long to convert; RecursionError very deep nesting.
    except (UnicodeDecodeError, ValueError, RecursionError):
        return JsonResponse(
            {"error": "bad_request", "message": _("リクエスト本文がJSONではありません。")},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    if not isinstance(body, dict):
        return JsonResponse(
            {"error": "bad_request", "message": _("リクエスト本文はJSONオブジェクトにしてください。")},
            status=400,
        )
    problems = [text_problem(value) for value in body.values() if isinstance(value, str)]
    if any(problems):
        return JsonResponse(
            {"error": "bad_request", "message": next(p for p in problems if p)},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    result = services.licence_number_register(
        inputter=request.naccs_id,
        target_user_id=_json_text(body.get("user_id")),
        raw_licence_number=_json_text(body.get("licence_number")),
        channel="api",
    )
    return JsonResponse(
        {
            "result_code": result.result.code,
            "message": result.result.message,
            "user_id": result.user_id,
            "licence_number": result.licence_number,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@csrf_exempt
@require_GET
@api_authenticated
def api_utb01(request):
    """GET /utb/api/utb01 → every 通関士ID of the caller's 利用者コード with its licence number."""
    code, items = services.utb01_list(inputter=request.naccs_id)
    return JsonResponse(
        {
            "result_code": code.code,
            "message": code.message,
            "items": [
                {
                    "user_id": item.user_id,
                    "processing_method": item.processing_method,
                    "licence_number": item.licence_number,
                    "registered_at": item.registered_at.astimezone(clock.JST).isoformat()
                    if item.registered_at
                    else None,
                }
                for item in items
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
