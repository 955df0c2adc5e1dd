"""Submissions racing each other on the real PostgreSQL (row locks and sequences only mean something there)."""

import pytest

from applications import clock, rules, services
from applications.exceptions import IllegalTransition
from applications.models import Application, ApplicationStatus, ReceptionNumberAllocation
from applications.reception_numbers import is_valid_reception_number
from tests.factories import ContractFactory, DraftFactory
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
