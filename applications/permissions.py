from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse


def second_factor_missing(user) -> bool:
    """The contract asks its customers for an authenticator code at login, and this session has not given one."""
    return bool(user.contract.customer_totp_required) and not user.is_verified()


def customer_required(view):
    """Logged in with a customer account (one that belongs to a contract). Staff accounts get 403 here:
    they are never customers (SPEC §4)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_customer:
            raise PermissionDenied
        if second_factor_missing(request.user):
            return redirect(f"{reverse('login-otp')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
