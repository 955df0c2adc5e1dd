"""Submissions racing each other on the real PostgreSQL (row locks and sequences only mean something there)."""

import pytest

from applications import clock, rules, services
from applications.exceptions import DomainError, IllegalTransition
from applications.models import Application, ApplicationStatus, ReceptionNumberAllocation
from applications.reception_numbers import is_valid_reception_number
from tests.factories import ContractFactory, DraftFactory, NaccsUserIdFactory, removal_draft, reset_draft
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

PARALLEL = 24


def test_parallel_submissions_get_distinct_reception_numbers(require_postgres):
    contract = ContractFactory()
    start = rules.earliest_start_date(clock.today())
    drafts = [DraftFactory(contract=contract, desired_start_date=start) for _ in range(PARALLEL)]

    results, errors = race(
        lambda i: services.application_submit(application=drafts[i]).reception_number, PARALLEL
    )

    assert errors == [None] * PARALLEL
    assert len(set(results)) == PARALLEL
    assert all(is_valid_reception_number(number) for number in results)
    assert Application.objects.filter(status=ApplicationStatus.SUBMITTED).count() == PARALLEL


def test_the_same_draft_submitted_in_parallel_files_exactly_one_application(require_postgres):
    start = rules.earliest_start_date(clock.today())
    draft = DraftFactory(desired_start_date=start)
    allocations_before = ReceptionNumberAllocation.objects.count()

    results, errors = race(
        lambda i: services.application_submit(application=draft).reception_number, PARALLEL
    )

    winners = [number for number in results if number]
    assert len(winners) == 1
    losers = [error for error in errors if error is not None]
    assert len(losers) == PARALLEL - 1
    assert all(isinstance(error, IllegalTransition) and error.code == "already_submitted" for error in losers)
    draft.refresh_from_db()
    assert draft.reception_number == winners[0]
    assert ReceptionNumberAllocation.objects.count() == allocations_before + 1
    assert Application.objects.filter(created_by=draft.created_by).count() == 1


@pytest.mark.parametrize("parallel", [2, 8])
@pytest.mark.parametrize("make_draft", [removal_draft, reset_draft], ids=["removal", "reset"])
def test_an_id_in_two_open_applications_of_its_kind_one_wins(require_postgres, parallel, make_draft):
    """通関士IDの削除, パスワードの初期化 (SPEC §9): submissions naming one ID lock it first, so exactly one files;
    the others are refused with a message and stay drafts."""
    contract = ContractFactory()
    shared = NaccsUserIdFactory(contract=contract, identifier="A0A")
    own = [NaccsUserIdFactory(contract=contract, identifier=f"B{i:02d}") for i in range(parallel)]
    drafts = [make_draft(contract=contract, targets=[own[i], shared]) for i in range(parallel)]

    results, errors = race(
        lambda i: services.application_submit(application=drafts[i]), parallel, no_thread_may_hang=True
    )

    assert [result is not None for result in results].count(True) == 1
    losers = [error for error in errors if error is not None]
    assert len(losers) == parallel - 1
    assert all(isinstance(error, DomainError) and error.code == "target_not_selectable" for error in losers)
    assert Application.objects.filter(status=ApplicationStatus.SUBMITTED).count() == 1
    assert Application.objects.filter(status=ApplicationStatus.DRAFT).count() == parallel - 1
