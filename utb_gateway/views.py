"""The UTB gateway's screens (in the style of the package software) and its JSON API (SPEC §6).

Its login is separate from the portal's: a session of its own holding one 利用者ID (utb_gateway/auth.py). The API
authenticates every request with HTTP Basic, sets no cookie and reads only JSON bodies (SPEC §10)."""

import json
from functools import wraps

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications import clock
from applications.exceptions import DomainError, form_add_domain_error
from applications.validators import text_problem

from . import auth, services
from .forms import NaccsPasswordChangeForm, UtbLoginForm, UtbRegistrationForm
from .session import with_utb_session

# The screens with a form: shown by GET (and HEAD, which answers the same without the body), sent by POST.
require_screen_methods = require_http_methods(["GET", "HEAD", "POST"])


@require_screen_methods
@with_utb_session
def login(request):
    """NACCS ログイン: a 利用者ID and its password. A temporary password leads straight to the password change."""
    form = UtbLoginForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            naccs_id = services.naccs_id_screen_login(
                user_id=form.cleaned_data["user_id"],
                password=form.cleaned_data["password"],
                client_address=auth.client_address(request),
            )
        except services.UtbLoginError as exc:
            refusal = exc
        else:
            auth.session_log_in(request, naccs_id)
            if naccs_id.password_changed_at is None:
                return redirect("utb_gateway:password")
            return redirect("utb_gateway:menu")
    return render(request, "utb_gateway/login.html", {"form": form, "refusal": refusal})


@require_POST
@with_utb_session
def logout(request):
    auth.session_log_out(request)
    return redirect("utb_gateway:login")


@require_safe
@auth.utb_login_required
def menu(request):
    return render(request, "utb_gateway/menu.html", {"naccs_id": request.naccs_id})


@require_screen_methods
@auth.utb_login_required
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


@require_safe
@auth.utb_login_required
def utb01(request):
    """UTB01 通関士証票番号照会."""
    answer = services.utb01_list(inputter=request.naccs_id)
    return render(
        request,
        "utb_gateway/utb01.html",
        {
            "result": answer.result,
            "reason": answer.reason,
            "items": answer.items,
            "naccs_id": request.naccs_id,
        },
    )


@require_screen_methods
@auth.utb_login_required
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
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            auth.session_rebind(request, changed)
            messages.success(request, _("パスワードを変更しました。"))
            return redirect("utb_gateway:menu")
    temporary = request.naccs_id.password_changed_at is None
    return render(
        request,
        "utb_gateway/password.html",
        {"form": form, "temporary": temporary, "naccs_id": request.naccs_id},
    )


# JSON API ---------------------------------------------------------------------------------------------------


class ApiRefusal(Exception):
    """A request the API does not read: 415 (not JSON by its Content-Type) or 400 (not a JSON object of text)."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> JsonResponse:
        return JsonResponse(
            {"error": self.error, "message": self.message},
            status=self.status,
            json_dumps_params={"ensure_ascii": False},
        )


def _text_problem_anywhere(document) -> str | None:
    """The first problem of any string of the document — a key or a value, at any depth — by the shared text
    check (lone surrogates, control characters, invisible format characters). Walked with a list, not recursion:
    a body the JSON parser could nest is never too deep for this."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return problem
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return None


def _json_object(request) -> dict:
    """The body: UTF-8 JSON, an object, and every string in it text a person could have typed."""
    try:
        body = json.loads(request.body.decode("utf-8"))
    # ValueError covers JSONDecodeError and integers too long to convert; RecursionError very deep nesting.
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiRefusal(400, "bad_request", _("リクエスト本文がJSONではありません。")) from None
    if not isinstance(body, dict):
        raise ApiRefusal(400, "bad_request", _("リクエスト本文はJSONオブジェクトにしてください。"))
    problem = _text_problem_anywhere(body)
    if problem:
        raise ApiRefusal(400, "bad_request", problem)
    return body


def _json_text(value) -> str:
    """The fields are text. A JSON number has already lost what matters (035 arrives as 35), so anything but a
    string is kept for the record but can never pass validation (S0002 for the ID, L0002 for the number)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{json.dumps(value, ensure_ascii=False)[:80]} (not a string)"


def _json_only(view):
    """Only `Content-Type: application/json` (any parameters, any case; Django lower-cases it and strips them) is
    read: a cross-site form can send text/plain, application/x-www-form-urlencoded or multipart/form-data, never
    this without the browser asking first (CORS preflight), so no other site can drive the API with a broker's
    credentials. Checked before the credentials, so such a request does not even count as a login attempt."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # A request without a body has nothing to declare; it is answered "not JSON" (400) after authentication.
        if request.body and request.content_type != "application/json":
            return ApiRefusal(
                415,
                "unsupported_media_type",
                _("リクエスト本文は Content-Type: application/json で送ってください。"),
            ).response()
        return view(request, *args, **kwargs)

    return wrapper


@csrf_exempt
@require_POST
@_json_only
@auth.api_authenticated
def api_utb(request):
    """POST /utb/api/utb {"user_id": "1ANACY27", "licence_number": "２９－１０"} → result code (HTTP 200)."""
    try:
        body = _json_object(request)
    except ApiRefusal as refusal:
        return refusal.response()
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
@require_safe
@auth.api_authenticated
def api_utb01(request):
    """GET /utb/api/utb01 → every 通関士ID of the caller's 利用者コード with its licence number."""
    answer = services.utb01_list(inputter=request.naccs_id)
    return JsonResponse(
        {
            "result_code": answer.result.code,
            "message": answer.result.message,
            "items": [
                {
                    "user_id": item.user_id,
                    "processing_method": item.processing_method,
                    "licence_number": item.licence_number,
                    "registered_at": item.registered_at.astimezone(clock.JST).isoformat()
                    if item.registered_at
                    else None,
                }
                for item in answer.items
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
