"""Staff roles come from one reference module (applications/roles.py): the migrations, the demo data, the
factories and the staff-account form all read it."""

import importlib
import subprocess
import sys

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission

from applications.roles import (
    APPROVER,
    PERMISSIONS,
    REVIEWER,
    ROLE_LABELS,
    STAFF_ROLES,
    permission_name,
    role_of,
)
from applications.services import staff_role_group_ensure
from reviews.forms import StaffAccountForm, StaffAccountUpdateForm
from tests.factories import StaffFactory


def test_the_roles_module_imports_no_models_so_migrations_may_import_it():
    probe = (
        "import sys, applications.roles; "
        "loaded = [m for m in sys.modules if m == 'django.db.models' or m.endswith('.models')]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _groups() -> dict[str, set[str]]:
    return {
        group.name: {permission.codename for permission in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions")
    }


@pytest.mark.django_db
def test_migrations_0004_0007_and_0010_make_the_roles_of_the_reference_list():
    Group.objects.all().delete()
    importlib.import_module("applications.migrations.0004_staff_roles").add_roles(django_apps, None)
    # 0004 alone: the approver does not manage staff yet.
    assert _groups() == {
        REVIEWER: {"review_application"},
        APPROVER: {"review_application", "approve_application"},
    }
    importlib.import_module("applications.migrations.0007_approver_manages_staff").grant(django_apps, None)
    assert _groups()[APPROVER] == {"review_application", "approve_application", "manage_staff"}
    importlib.import_module("applications.migrations.0010_contract_permission").grant(django_apps, None)
    assert _groups() == {role: set(codenames) for role, codenames in STAFF_ROLES.items()}


@pytest.mark.django_db
def test_every_permission_exists_under_its_declared_model_and_name():
    for codename, (model, name) in PERMISSIONS.items():
        permission = Permission.objects.get(content_type__app_label="applications", codename=codename)
        assert (permission.content_type.model, permission.name) == (model, name)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(STAFF_ROLES))
def test_a_missing_role_group_and_its_permissions_are_made_again(role):
    Group.objects.all().delete()
    Permission.objects.filter(content_type__app_label="applications", codename__in=list(PERMISSIONS)).delete()
    user = StaffFactory()
    user.groups.add(staff_role_group_ensure(role=role))
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    for codename in PERMISSIONS:
        assert user.has_perm(permission_name(codename)) is (codename in STAFF_ROLES[role])
    assert role_of(user) == role
    made = Permission.objects.filter(content_type__app_label="applications", codename__in=STAFF_ROLES[role])
    assert {(p.codename, p.name) for p in made} == {(c, PERMISSIONS[c][1]) for c in STAFF_ROLES[role]}


@pytest.mark.parametrize("form", [StaffAccountForm, StaffAccountUpdateForm])
def test_the_staff_account_forms_offer_every_role_with_its_label(form):
    choices = form().fields["role"].choices
    assert [value for value, _label in choices] == list(STAFF_ROLES) == list(ROLE_LABELS)
    assert [str(label) for _value, label in choices] == ["審査担当者", "承認者"]


@pytest.mark.django_db
def test_the_stronger_role_wins_for_a_member_of_both():
    user = StaffFactory()
    user.groups.add(staff_role_group_ensure(role=REVIEWER), staff_role_group_ensure(role=APPROVER))
    assert role_of(user) == APPROVER
