from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def customer_required(view):
    """Logged in with a customer account (one that belongs to a contract). Staff accounts get 403 here:
    they are never customers (SPEC §4)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_customer:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
