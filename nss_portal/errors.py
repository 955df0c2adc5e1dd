"""The error pages (SPEC §8): 403, 404 and 500 in Japanese (English through i18n), in the site's layout, with a way
back to the start of the area the visitor was in. The UTB JSON API answers its errors as JSON."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext as _

API_PREFIX = "/utb/api/"


def _way_back(request) -> tuple[str, str]:
    """(URL, label) of the start of the area of `request.path`: the staff workplace, UTB, or the portal."""
    path = request.path
    if path.startswith("/staff/"):
        return reverse("reviews:queue"), _("審査キューに戻る")
    if path.startswith("/utb/"):
        return reverse("utb_gateway:menu"), _("UTBメニューに戻る")
    return reverse("menu"), _("メニューに戻る")


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"error": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _page(request, template: str, status: int):
    back_url, back_label = _way_back(request)
    return render(request, template, {"back_url": back_url, "back_label": back_label}, status=status)


def permission_denied(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error("forbidden", _("この操作を行う権限がありません。"), 403)
    return _page(request, "403.html", 403)


def page_not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error("not_found", _("該当するページはありません。"), 404)
    return _page(request, "404.html", 404)


def server_error(request):
    """Rendered without the request's context: whatever failed (the database, the session) is not touched again."""
    if request.path.startswith(API_PREFIX):
        return _api_error(
            "server_error", _("システムエラーが発生しました。しばらくしてからもう一度お試しください。"), 500
        )
    return HttpResponseServerError(loader.get_template("500.html").render({}))
