"""Races on one 利用者ID that only the real PostgreSQL can settle (row locks, the partial unique constraint)."""

import pytest

from tests.factories import ContractFactory, NaccsUserIdFactory
from tests.threads import race
from tests.utb_gateway import MONDAY_10, READY_PASSWORD, ready_id
from utb_gateway import result_codes as rc
from utb_gateway import services
from utb_gateway.models import LicenceRegistration, NaccsLoginState, UtbAttempt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_concurrent_registrations_for_one_id_leave_exactly_one_current_number(require_postgres):
    office = ContractFactory(user_code="1ANAC")
    broker = ready_id(office, identifier="A0A")
    target = NaccsUserIdFactory(contract=office, identifier="Y27")
    numbers = [f"{index + 1}-{index:03d}" for index in range(THREADS)]

    def register(index):
        return services.licence_number_register(
            inputter=broker,
            target_user_id="1ANACY27",
            raw_licence_number=numbers[index],
            channel="api",
            now=MONDAY_10,
        )

    results, errors = race(register, THREADS, no_thread_may_hang=True)

    assert errors == [None] * THREADS
    assert [result.result for result in results] == [rc.OK] * THREADS
    rows = list(LicenceRegistration.objects.filter(naccs_user_id=target).order_by("id"))
    assert sorted(row.licence_number for row in rows) == sorted(numbers)
    current = [row for row in rows if row.is_current]
    assert len(current) == 1
    # the one current row is the last registration that committed (the registrations were serialised)
    assert current[0] == rows[-1]
    code, items = services.utb01_list(inputter=broker, now=MONDAY_10)
    assert code is rc.OK
    assert {item.user_id: item.licence_number for item in items}["1ANACY27"] == current[0].licence_number
    assert UtbAttempt.objects.filter(result_code="00000").count() == THREADS


def test_concurrent_registrations_after_an_existing_number(require_postgres):
    office = ContractFactory(user_code="1ANAC")
    broker = ready_id(office, identifier="A0A")
    assert services.licence_number_register(
        inputter=broker, target_user_id="1ANACA0A", raw_licence_number="035", channel="screen", now=MONDAY_10
    ).ok

    results, errors = race(
        lambda index: services.licence_number_register(
            inputter=broker,
            target_user_id="1ANACA0A",
            raw_licence_number=str(100 + index),
            channel="screen",
            now=MONDAY_10,
        ),
        THREADS,
        no_thread_may_hang=True,
    )

    assert errors == [None] * THREADS
    assert all(result.ok for result in results)
    assert LicenceRegistration.objects.filter(naccs_user_id=broker).count() == THREADS + 1
    assert LicenceRegistration.objects.filter(naccs_user_id=broker, is_current=True).count() == 1
    assert not LicenceRegistration.objects.filter(licence_number="035", is_current=True).exists()


def test_concurrent_failed_logins_are_all_counted_and_lock_the_id(require_postgres, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = THREADS
    broker = ready_id(ContractFactory(user_code="1ANAC"), identifier="A0A")

    def fail(index):
        services.naccs_id_authenticate(user_id="1ANACA0A", password="WRONG123", now=MONDAY_10)

    _results, errors = race(fail, THREADS, no_thread_may_hang=True)

    # every thread was refused as a wrong password (none saw a database error)
    assert [type(error) for error in errors] == [services.UtbLoginError] * THREADS
    assert {error.message for error in errors} == {"利用者IDまたはパスワードが正しくありません。"}
    state = NaccsLoginState.objects.get(naccs_user_id=broker)
    assert state.locked_until is not None
    with pytest.raises(services.UtbLoginError):
        services.naccs_id_authenticate(user_id="1ANACA0A", password=READY_PASSWORD, now=MONDAY_10)


def test_two_brokers_registering_for_each_other_at_once_never_deadlock(require_postgres):
    """Found by the load benchmark: A registers for B while B registers for A. With plain FOR UPDATE (and the
    contract row dragged in by an ordering join) PostgreSQL detected a deadlock; every answer must be 00000."""
    office = ContractFactory(user_code="1ANAC")
    first = ready_id(office, identifier="A0A")
    second = ready_id(office, identifier="Y27")
    pairs = [(first, "1ANACY27"), (second, "1ANACA0A")] * (THREADS // 2)

    def register(index):
        inputter, target = pairs[index]
        outcomes = []
        for round_number in range(5):
            outcomes.append(
                services.licence_number_register(
                    inputter=inputter,
                    target_user_id=target,
                    raw_licence_number=f"{index}-{round_number}",
                    channel="api",
                    now=MONDAY_10,
                ).result
            )
        return outcomes

    results, errors = race(register, THREADS, no_thread_may_hang=True)

    assert errors == [None] * THREADS
    assert all(outcome is rc.OK for outcomes in results for outcome in outcomes)
    for naccs_id in (first, second):
        assert LicenceRegistration.objects.filter(naccs_user_id=naccs_id, is_current=True).count() == 1
