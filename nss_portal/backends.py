"""The authentication backend: Django's ModelBackend, loading the account of a session together with its contract
(one query for what every customer page and the contract's login rules need), and a staff member's permissions in
one query instead of two (those given to the account and those of its roles, README "Performance")."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class PortalBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("contract").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        """ModelBackend's answer (the account's own permissions and its groups', none for an inactive account or
        an object), read as one UNION and kept on the user for the request like ModelBackend's `_perm_cache`."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            names = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                permissions = Permission.objects.values_list(*names)
            else:
                own = Permission.objects.filter(user=user_obj).order_by().values_list(*names)
                permissions = own.union(
                    Permission.objects.filter(group__user=user_obj).order_by().values_list(*names)
                )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in permissions}
        return user_obj._perm_cache
