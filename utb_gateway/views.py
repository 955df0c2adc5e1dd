"""The UTB gateway's screens (in the style of the package software) and its JSON API (SPEC §6).

Its login is separate from the portal's: a session of its own holding one 利用者ID (utb_gateway/auth.py). The API
authenticates every request with HTTP Basic (utb_gateway/auth.py), sets no cookie and reads only JSON bodies
(utb_gateway/json_requests.py, SPEC §10). What remains here is which service each request calls and the answer."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications import clock
from applications.exceptions import DomainError, form_add_domain_error

from . import auth, json_requests, services
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


# JSON API (what it reads from a request: utb_gateway/json_requests.py) --------------------------------------


@csrf_exempt
@require_POST
@json_requests.json_only
@auth.api_authenticated
def api_utb(request):
    """POST /utb/api/utb {"user_id": "1ANACY27", "licence_number": "２９－１０"} → result code (HTTP 200)."""
    try:
        body = json_requests.json_object(request)
    except json_requests.ApiRefusal as refusal:
        return refusal.response()
    result = services.licence_number_register(
        inputter=request.naccs_id,
        target_user_id=json_requests.json_text(body.get("user_id")),
        raw_licence_number=json_requests.json_text(body.get("licence_number")),
        channel="api",
    )
    return JsonResponse(
        {
            "result_code": result.result.code,
            "message": _in_japanese(result.result.message),
            "user_id": result.user_id,
            "licence_number": result.licence_number,
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _in_japanese(text) -> str:
    """The API's messages are NACCS's, in Japanese, whatever language the client asks for."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


@csrf_exempt
@require_safe
@auth.api_authenticated
def api_utb01(request):
    """GET /utb/api/utb01 → every 通関士ID of the caller's 利用者コード with its licence number."""
    answer = services.utb01_list(inputter=request.naccs_id)
    return JsonResponse(
        {
            "result_code": answer.result.code,
            "message": _in_japanese(answer.result.message),
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
