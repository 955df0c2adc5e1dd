"""nss_portal/backends.py: the portal's backend answers permission checks exactly as Django's ModelBackend does,
with one query instead of two."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import User
from nss_portal.backends import PortalBackend
from tests.factories import CustomerFactory, staff_in

pytestmark = pytest.mark.django_db


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no permission cache


def accounts():
    reviewer = staff_in("reviewer")
    approver = staff_in("approver")
    both = staff_in("reviewer")
    both.user_permissions.add(Permission.objects.get(codename="add_user"))  # one of its own beside the role's
    only_own = staff_in(None)
    only_own.user_permissions.add(Permission.objects.get(codename="view_user"))
    inactive = staff_in("approver", is_active=False)
    superuser = staff_in(None, is_superuser=True)
    return [reviewer, approver, both, only_own, inactive, superuser, CustomerFactory()]


def test_the_permissions_are_model_backends_for_every_kind_of_account():
    for user in accounts():
        expected = ModelBackend().get_all_permissions(fresh(user))
        assert PortalBackend().get_all_permissions(fresh(user)) == expected, user.username
    assert any(ModelBackend().get_all_permissions(fresh(user)) for user in accounts())  # not all empty


def test_an_object_permission_is_never_given():
    user = staff_in("approver")
    assert PortalBackend().get_all_permissions(fresh(user), obj=user) == set()


def test_one_query_and_then_none_for_the_rest_of_the_request():
    user = fresh(staff_in("approver"))
    user.user_permissions.add(Permission.objects.get(codename="add_user"))
    with CaptureQueriesContext(connection) as captured:
        permissions = PortalBackend().get_all_permissions(user)
        PortalBackend().get_all_permissions(user)
        assert user.has_perm("applications.add_user")
    assert len(captured.captured_queries) == 1
    assert "applications.add_user" in permissions and len(permissions) > 1
