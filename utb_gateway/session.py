"""The UTB gateway's own session: a separate cookie (path /utb/) and store, so that the NACCS-side login of a
利用者ID and the portal's customer login never touch each other — logging in or out of one leaves the other as it
was, as two separate systems would."""

from functools import wraps
from importlib import import_module

from django.conf import settings

COOKIE_NAME = "nss_utb_session"
COOKIE_PATH = "/utb/"


def _store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def with_utb_session(view):
    """Give the view `request.utb_session`; save it and set (or delete) its cookie afterwards."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        session = _store_class()(session_key=request.COOKIES.get(COOKIE_NAME))
        request.utb_session = session
        response = view(request, *args, **kwargs)
        if not session.modified:
            return response
        if session.is_empty():
            if COOKIE_NAME in request.COOKIES:
                session.delete()
                response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")
            return response
        session.set_expiry(settings.SESSION_COOKIE_AGE)
        session.save()
        response.set_cookie(
            COOKIE_NAME,
            session.session_key,
            max_age=settings.SESSION_COOKIE_AGE,
            path=COOKIE_PATH,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response

    return wrapper
