"""Staff racing each other on one application, and approvals racing in one contract, on the real PostgreSQL
(row locks only mean something there). SPEC §4: one wins, the others are told; never two sets of IDs."""

import pytest
from django.core import mail

from applications.exceptions import DomainError
from applications.models import ApplicationStatus, NaccsUserId
from reviews.services import application_approve, application_reject, application_take
from tests.factories import ContractFactory, staff_in, submitted_application
from tests.threads import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

APPROVED_SUBJECT = "【NSS】利用申込確認完了のお知らせ"


def _staff(role, count):
    users = [staff_in(role) for _ in range(count)]
    for user in users:  # fill the permission cache before the race
        assert user.has_perm("applications.review_application")
    return users


def _taken_application(identifiers=("K12", "", "")):
    application = submitted_application(identifiers=identifiers)
    return application_take(application=application, actor=staff_in("reviewer"))


def _approval_mails():
    return [message for message in mail.outbox if message.subject == APPROVED_SUBJECT]


@pytest.mark.parametrize("parallel", [2, 8])
def test_staff_approving_one_application_at_once_issue_exactly_one_set(require_postgres, settings, parallel):
    settings.NSS_FOUR_EYES = False
    application = _taken_application()
    approvers = _staff("approver", parallel)

    results, errors = race(
        lambda i: application_approve(application=application, actor=approvers[i]),
        parallel,
        no_thread_may_hang=True,
    )

    winners = [index for index, result in enumerate(results) if result is not None]
    assert len(winners) == 1
    losers = [error for error in errors if error is not None]
    assert len(losers) == parallel - 1
    assert all(isinstance(error, DomainError) and str(error.message) for error in losers), errors
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_by == approvers[winners[0]]
    rows = NaccsUserId.objects.filter(contract=application.contract)
    assert rows.count() == 3
    assert set(rows.values_list("pk", flat=True)) == {naccs_id.pk for naccs_id in results[winners[0]]}
    assert len(_approval_mails()) == 1


def test_approve_and_reject_at_the_same_moment_exactly_one_wins(require_postgres, settings):
    settings.NSS_FOUR_EYES = False
    application = _taken_application()
    approver, rejecter = _staff("approver", 2)
    actions = [
        lambda: application_approve(application=application, actor=approver),
        lambda: application_reject(application=application, actor=rejecter, reason="書類不備"),
    ]

    results, errors = race(lambda i: actions[i](), 2, no_thread_may_hang=True)

    assert [result is not None for result in results].count(True) == 1
    [loser] = [error for error in errors if error is not None]
    assert isinstance(loser, DomainError) and str(loser.message)
    application.refresh_from_db()
    issued = NaccsUserId.objects.filter(contract=application.contract).count()
    if results[0] is not None:
        assert application.status == ApplicationStatus.APPROVED
        assert application.rejection_reason == ""
        assert issued == 3
        assert len(_approval_mails()) == 1
    else:
        assert application.status == ApplicationStatus.REJECTED
        assert application.rejection_reason == "書類不備"
        assert application.start_date is None
        assert issued == 0
        assert _approval_mails() == []


def test_parallel_approvals_in_one_contract_issue_distinct_identifiers(require_postgres, settings):
    settings.NSS_FOUR_EYES = False
    parallel = 10
    contract = ContractFactory()
    wishes = [
        ("K12", ""),
        ("K12",),
        ("",),
        ("K12", ""),
        ("K12",),
        ("", ""),
        ("K12",),
        ("K12",),
        ("",),
        ("K12", ""),
    ]
    applications = []
    for identifiers in wishes:
        application = submitted_application(contract=contract, identifiers=identifiers)
        applications.append(application_take(application=application, actor=staff_in("reviewer")))
    approvers = _staff("approver", parallel)

    results, errors = race(
        lambda i: application_approve(application=applications[i], actor=approvers[i]),
        parallel,
        no_thread_may_hang=True,
    )

    assert errors == [None] * parallel
    identifiers = list(NaccsUserId.objects.filter(contract=contract).values_list("identifier", flat=True))
    assert len(identifiers) == sum(len(w) for w in wishes)
    assert len(set(identifiers)) == len(identifiers)
    assert not any(letter in identifier for identifier in identifiers for letter in "OI")
    wanting = {index for index, w in enumerate(wishes) if "K12" in w}
    got_desired = [index for index in range(parallel) if any(i.identifier == "K12" for i in results[index])]
    assert len(got_desired) == 1 and got_desired[0] in wanting
    for application in applications:
        application.refresh_from_db()
        assert application.status == ApplicationStatus.APPROVED


# --- SPEC §8: assignment races ------------------------------------------------------------------------------


@pytest.mark.parametrize("parallel", [2, 6])
def test_reviewers_bulk_taking_the_same_rows_at_once_each_row_gets_one_holder(require_postgres, parallel):
    from reviews.services import applications_bulk_take

    applications = [submitted_application() for _ in range(3)]
    reviewers = _staff("reviewer", parallel)
    ids = [application.pk for application in applications]

    results, errors = race(
        lambda i: applications_bulk_take(application_ids=ids[i % 3 :] + ids[: i % 3], actor=reviewers[i]),
        parallel,
        no_thread_may_hang=True,
    )

    assert errors == [None] * parallel
    for application in applications:
        application.refresh_from_db()
        assert application.status == ApplicationStatus.UNDER_REVIEW
        taken_by = [
            i
            for i, rows in enumerate(results)
            for row in rows
            if row.application_id == application.pk and row.taken
        ]
        assert len(taken_by) == 1, f"{application.reception_number} taken by {taken_by}"
        assert application.reviewer == reviewers[taken_by[0]]
        refused = [
            row for rows in results for row in rows if row.application_id == application.pk and not row.taken
        ]
        assert len(refused) == parallel - 1
        assert all(row.message == f"{application.reviewer.username}が担当しています。" for row in refused)


def test_release_and_reassign_at_the_same_moment_leave_one_consistent_state(require_postgres):
    from reviews.services import application_reassign, application_release

    application = _taken_application()
    holder = application.reviewer
    approver = _staff("approver", 1)[0]
    target = staff_in("reviewer")
    target.totpdevice_set.create(name="default", confirmed=True)
    actions = [
        lambda: application_release(application=application, actor=holder, seen_reviewer_id=holder.pk),
        lambda: application_reassign(
            application=application, actor=approver, reviewer=target, seen_reviewer_id=holder.pk
        ),
    ]

    results, errors = race(lambda i: actions[i](), 2, no_thread_may_hang=True)

    assert [result is not None for result in results].count(True) == 1
    [loser] = [error for error in errors if error is not None]
    assert isinstance(loser, DomainError) and loser.code == "stale"
    application.refresh_from_db()
    if results[0] is not None:
        assert (application.status, application.reviewer) == (ApplicationStatus.SUBMITTED, None)
    else:
        assert (application.status, application.reviewer) == (ApplicationStatus.UNDER_REVIEW, target)
