"""`make run`'s demo data: idempotent, and complete even when the reference data was emptied."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from applications.models import Contract, NaccsUserId, ProcessingMethod, User
from applications.passwords import check_naccs_password

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(Contract.objects.values_list("user_code", "company_name", "office_name")),
        sorted(
            f"{n.contract.user_code}{n.identifier}" for n in NaccsUserId.objects.select_related("contract")
        ),
        sorted(User.objects.values_list("username", "is_staff")),
    )


def test_load_demo_twice_gives_the_same_data():
    call_command("load_demo", verbosity=0)
    first = snapshot()
    call_command("load_demo", verbosity=0)
    assert snapshot() == first
    assert ("1ANAC", "デモ通関株式会社", "東京事業所") in first[0]
    assert {"1ANACA0A", "1ANACY27", "1ANACG01", "2BDEFB01"} <= set(first[1])
    broker = NaccsUserId.objects.get(contract__user_code="1ANACY27"[:5], identifier="Y27")
    assert check_naccs_password("TSUKAN02", broker.password_hash) and broker.password_changed_at


def test_load_demo_restores_missing_reference_data():
    ProcessingMethod.objects.all().delete()
    Group.objects.all().delete()
    call_command("load_demo", verbosity=0)
    assert set(ProcessingMethod.objects.values_list("code", flat=True)) == {"interactive", "netnaccs"}
    reviewer = User.objects.get(username="demo-reviewer")
    assert reviewer.has_perm("applications.review_application")
    assert not reviewer.has_perm("applications.approve_application")
    assert User.objects.get(username="demo-approver").has_perm("applications.approve_application")
