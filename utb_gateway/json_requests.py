"""What the UTB gateway's JSON API reads from a request (SPEC §6, §10): a body declared `application/json`
(checked before the credentials), a JSON object whose every string is text a person could have typed, and its
fields as text. Anything else is an ApiRefusal, answered 415 or 400 with a JSON message. The views only call these.
"""

import json
from functools import wraps

from django.http import JsonResponse
from django.utils.translation import gettext as _

from applications.validators import text_problem


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


def json_object(request) -> dict:
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


def json_text(value) -> str:
    """The fields are text. A JSON number has already lost what matters (035 arrives as 35), so anything but a
    string is kept for the record but can never pass validation (S0002 for the ID, L0002 for the number)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{json.dumps(value, ensure_ascii=False)[:80]} (not a string)"


def json_only(view):
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
