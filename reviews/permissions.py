from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse


def staff_required(permission: str):
    """A NACCS centre staff member, logged in with the second factor (TOTP), holding `permission`.

    Anonymous, or staff without the verified second factor → the staff login. A customer account → 403: it is
    authenticated but never staff (SPEC §4). Staff without the permission → 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or (user.is_staff and not user.is_verified()):
                return redirect(f"{reverse('reviews:login')}?{urlencode({'next': request.get_full_path()})}")
            if not user.is_staff or not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
