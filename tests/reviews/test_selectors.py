"""Reads of the staff workplace: the actions an application's page offers the staff member looking at it (by
status, role and who took the application, exactly as the services decide), and the staff account lists."""

import pytest
from django.db import transaction
from django.http import Http404

from applications.exceptions import DomainError
from applications.models import Application, ApplicationStatus
from applications.services import application_withdraw
from reviews import selectors
from reviews import services as review_services
from tests.factories import staff_in, staff_with_device, submitted_application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

ROLE_MESSAGE = "承認には承認者の権限が必要です（4つの目の原則）。"
SAME_PERSON_MESSAGE = (
    "この申込を担当した審査担当者は承認できません。別の承認者が承認してください（4つの目の原則）。"
)


def actions(application, actor):
    return selectors.application_actions(application=Application.objects.get(pk=application.pk), actor=actor)


def offered(result) -> set[str]:
    return {name for name in ("take", "approve", "reject", "notice") if getattr(result, name)}


@pytest.fixture
def four_eyes(settings):
    settings.NSS_FOUR_EYES = True


@pytest.fixture
def taken_by_reviewer(reviewer):
    return review_services.application_take(application=submitted_application(), actor=reviewer)


# --- by status ---------------------------------------------------------------------------------------------------


def test_a_received_application_offers_take_and_notice(reviewer):
    result = actions(submitted_application(), reviewer)
    assert offered(result) == {"take", "notice"}
    assert result.decide is False
    assert result.review_closed is False
    assert result.approve_refusal is None


def test_an_application_under_review_offers_approve_reject_and_notice_to_the_reviewer_who_took_it(
    taken_by_reviewer, reviewer
):
    result = actions(taken_by_reviewer, reviewer)
    assert offered(result) == {"approve", "reject", "notice"}
    assert result.decide is True
    assert result.review_closed is False


def test_without_four_eyes_another_reviewer_than_the_one_who_took_it_may_decide(taken_by_reviewer):
    other = staff_in("reviewer")
    assert offered(actions(taken_by_reviewer, other)) == {"approve", "reject", "notice"}


@pytest.mark.parametrize(
    "decide",
    [
        lambda application, actor: review_services.application_approve(application=application, actor=actor),
        lambda application, actor: review_services.application_reject(
            application=application, actor=actor, reason="書類不備"
        ),
    ],
    ids=["approved", "rejected"],
)
def test_a_decided_application_offers_only_notices_and_says_the_review_is_closed(
    taken_by_reviewer, reviewer, approver, decide
):
    decide(taken_by_reviewer, approver)
    for actor in (reviewer, approver):
        result = actions(taken_by_reviewer, actor)
        assert offered(result) == {"notice"}
        assert result.decide is False
        assert result.review_closed is True


def test_a_withdrawn_application_offers_only_notices_and_says_the_review_is_closed(reviewer, customer):
    application = submitted_application(contract=customer.contract)
    application_withdraw(application=application, actor=customer)
    result = actions(application, reviewer)
    assert offered(result) == {"notice"}
    assert result.review_closed is True


# --- by role and holder (four-eyes) ----------------------------------------------------------------------------


def test_with_four_eyes_the_reviewer_who_took_it_may_reject_but_not_approve_and_is_told_why(
    four_eyes, taken_by_reviewer, reviewer
):
    result = actions(taken_by_reviewer, reviewer)
    assert offered(result) == {"reject", "notice"}
    assert result.decide is True
    assert result.approve_refusal == ROLE_MESSAGE


def test_with_four_eyes_an_approver_who_took_it_himself_may_not_approve_it(four_eyes, approver):
    application = review_services.application_take(application=submitted_application(), actor=approver)
    result = actions(application, approver)
    assert offered(result) == {"reject", "notice"}
    assert result.approve_refusal == SAME_PERSON_MESSAGE


def test_with_four_eyes_another_approver_may_approve(four_eyes, taken_by_reviewer, approver):
    result = actions(taken_by_reviewer, approver)
    assert offered(result) == {"approve", "reject", "notice"}
    assert result.approve_refusal is None


def test_four_eyes_does_not_touch_a_received_application(four_eyes, reviewer):
    result = actions(submitted_application(), reviewer)
    assert offered(result) == {"take", "notice"}
    assert result.approve_refusal is None


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: staff_in(None),
        lambda: staff_in("approver", is_active=False),
    ],
    ids=["staff-without-a-role", "stopped-approver"],
)
@pytest.mark.parametrize("status", ["submitted", "under_review"])
def test_a_staff_member_the_services_refuse_is_offered_nothing(make_actor, status, reviewer):
    application = submitted_application()
    if status == "under_review":
        review_services.application_take(application=application, actor=reviewer)
    result = actions(application, make_actor())
    assert offered(result) == set()
    assert result.decide is False
    assert result.review_closed is False


# --- the page offers exactly what the services allow -----------------------------------------------------------


def _service_allows(act) -> tuple[bool, str | None]:
    """Run a service in a savepoint that is rolled back: (allowed, the refusal's message)."""
    try:
        with transaction.atomic():
            act()
            raise _RollBack
    except _RollBack:
        return True, None
    except DomainError as error:
        return False, error.message


class _RollBack(Exception):
    pass


@pytest.mark.parametrize("four_eyes_on", [False, True], ids=["four-eyes-off", "four-eyes-on"])
@pytest.mark.parametrize("holder_role", ["reviewer", "approver"])
@pytest.mark.parametrize("actor_is", ["holder", "another-reviewer", "another-approver", "no-role"])
def test_offered_actions_match_what_the_services_allow(settings, four_eyes_on, holder_role, actor_is):
    settings.NSS_FOUR_EYES = four_eyes_on
    holder = staff_with_device(holder_role)
    actor = {
        "holder": lambda: holder,
        "another-reviewer": lambda: staff_in("reviewer"),
        "another-approver": lambda: staff_in("approver"),
        "no-role": lambda: staff_in(None),
    }[actor_is]()
    received = submitted_application()
    under_review = review_services.application_take(application=submitted_application(), actor=holder)

    on_received = actions(received, actor)
    assert (
        on_received.take
        == _service_allows(lambda: review_services.application_take(application=received, actor=actor))[0]
    )
    assert (
        on_received.notice
        == _service_allows(
            lambda: review_services.progress_notice_post(application=received, actor=actor, text="確認中です")
        )[0]
    )

    on_review = actions(under_review, actor)
    approved, refusal = _service_allows(
        lambda: review_services.application_approve(application=under_review, actor=actor)
    )
    assert on_review.approve == approved
    if on_review.approve_refusal is not None:
        assert on_review.approve_refusal == refusal
    assert (
        on_review.reject
        == _service_allows(
            lambda: review_services.application_reject(
                application=under_review, actor=actor, reason="書類不備"
            )
        )[0]
    )
    under_review.refresh_from_db()
    assert under_review.status == ApplicationStatus.UNDER_REVIEW


# --- staff accounts ----------------------------------------------------------------------------------------------


def test_the_staff_account_list_is_every_staff_account_by_user_id_with_role_and_enrolment(
    django_assert_num_queries, customer
):
    enrolled_reviewer = staff_with_device("reviewer", username="b-reviewer")
    waiting_approver = staff_in("approver", username="a-approver")  # no authenticator yet
    no_role = staff_with_device(None, username="c-nobody")
    stopped = staff_with_device("reviewer", username="d-stopped", is_active=False)

    with django_assert_num_queries(2):
        accounts = selectors.staff_account_list()

    assert [account.username for account in accounts] == ["a-approver", "b-reviewer", "c-nobody", "d-stopped"]
    assert customer.pk not in {account.pk for account in accounts}
    by_name = {account.username: account for account in accounts}
    assert (by_name["a-approver"].role, by_name["a-approver"].enrolled) == ("approver", False)
    assert (by_name["b-reviewer"].role, by_name["b-reviewer"].enrolled) == ("reviewer", True)
    assert (by_name["c-nobody"].role, by_name["c-nobody"].enrolled) == (None, True)
    assert by_name["d-stopped"].is_active is False
    assert [str(account.role_label) for account in accounts] == ["承認者", "審査担当者", "", "審査担当者"]
    assert {account.pk for account in accounts} == {
        enrolled_reviewer.pk,
        waiting_approver.pk,
        no_role.pk,
        stopped.pk,
    }


def test_a_staff_account_comes_with_role_enrolment_and_its_open_link(approver):
    sent = review_services.staff_account_create(
        actor=approver, username="new-reviewer", full_name="新人", email="new@nacc.example", role="reviewer"
    )
    account = selectors.staff_account_get(account_id=sent.account.pk)
    assert account.role == "reviewer"
    assert account.enrolled is False
    assert account.pending_link is not None
    assert account.pending_link.expires_at == sent.expires_at

    enrolled = selectors.staff_account_get(account_id=approver.pk)
    assert (enrolled.role, enrolled.enrolled, enrolled.pending_link) == ("approver", True, None)


def test_a_customer_or_an_unknown_id_is_not_a_staff_account(customer):
    for account_id in (customer.pk, 999_999):
        with pytest.raises(Http404):
            selectors.staff_account_get(account_id=account_id)


def test_the_queue_and_its_export_read_no_credentials_of_the_ids_they_name_or_of_their_holders(reviewer):
    """A removal's or a reset's items name 利用者IDs; the queue shows only their processing methods, so neither the
    page nor the CSV reads the IDs' rows (their password hashes and initial-password ciphertexts stay unread), nor
    the password hash of the staff member holding a row (its name is all a row shows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from applications import clock
    from tests.factories import ContractFactory, NaccsUserIdFactory, submitted_removal

    office = ContractFactory()
    targets = [NaccsUserIdFactory(contract=office, identifier=f"R0{n}") for n in range(2)]
    removal = submitted_removal(contract=office, targets=targets)
    review_services.application_take(application=removal, actor=reviewer)
    with CaptureQueriesContext(connection) as captured:
        rows = selectors.application_queue(today=clock.today()).rows
        exported = list(selectors.queue_export_rows(status="", today=clock.today()))
    assert removal in rows and removal in exported
    assert [row.reviewer.get_username() for row in rows if row.pk == removal.pk] == [reviewer.username]
    assert [row.method_counts for row in rows if row.pk == removal.pk] == [
        [(targets[0].processing_method.label, 2)]
    ]
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "password_hash" not in sql and "initial_password_encrypted" not in sql
    assert '."password"' not in sql
