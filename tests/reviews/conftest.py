"""Fixtures for the NACCS centre's actions: reviewer and approver staff, submitted applications."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from applications import clock, rules
from applications.models import Application
from applications.services import application_submit
from tests.factories import DraftFactory, ItemFactory, StaffFactory

# The roles of migration 0004. A transactional test's flush removes the groups the migration made, so the
# fixtures put them back with the same permissions.
ROLES = {
    "reviewer": ["review_application"],
    "approver": ["review_application", "approve_application"],
}


def role_group(name: str) -> Group:
    content_type = ContentType.objects.get_for_model(Application)
    group, _ = Group.objects.get_or_create(name=name)
    for codename in ROLES[name]:
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": codename}
        )
        group.permissions.add(permission)
    return group


def staff_in(role: str, **kwargs):
    user = StaffFactory(**kwargs)
    user.groups.add(role_group(role))
    return user


def submitted_application(
    *, contract=None, identifiers=("",), desired_start_date=None, **kwargs
) -> Application:
    """A draft with one item per entry of `identifiers` (a desired 識別番号 or "" for none), filed through the
    real submission service with a valid desired date (the earliest one, unless given)."""
    factory_kwargs = {"items": 0, **kwargs}
    if contract is not None:
        factory_kwargs["contract"] = contract
    draft = DraftFactory(
        desired_start_date=desired_start_date or rules.earliest_start_date(clock.today()), **factory_kwargs
    )
    for index, identifier in enumerate(identifiers):
        ItemFactory(application=draft, desired_identifier=identifier, broker_name=f"通関 士{index}")
    return application_submit(application=draft)


@pytest.fixture
def reviewer(db):
    return staff_in("reviewer", email="reviewer@nacc.example")


@pytest.fixture
def approver(db):
    return staff_in("approver", email="approver@nacc.example")


@pytest.fixture
def make_submitted(db):
    return submitted_application
