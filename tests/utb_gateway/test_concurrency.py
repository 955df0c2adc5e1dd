"""Races on one 利用者ID that only the real PostgreSQL can settle (row locks, the partial unique constraint)."""

import pytest
from django.test import Client

from tests.factories import ContractFactory, NaccsUserIdFactory
from tests.hashers import CountingNaccsScryptPasswordHasher
from tests.threads import race
from tests.utb_gateway import MONDAY_10, READY_PASSWORD, ready_id
from tests.utb_gateway.test_views import API_UTB01, basic
from utb_gateway import result_codes as rc
from utb_gateway import services
from utb_gateway.models import LicenceRegistration, NaccsLoginState, UtbAttempt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
GUESSER = "203.0.113.7"


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
    answer = services.utb01_list(inputter=broker, now=MONDAY_10)
    assert answer.result is rc.OK
    assert {item.user_id: item.licence_number for item in answer.items}["1ANACY27"] == current[
        0
    ].licence_number
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


GUESSES = 24


def test_concurrent_wrong_guesses_are_counted_before_they_are_checked(require_postgres, settings):
    """24 wrong guesses at once from one address, through the API: at most NSS_UTB_MAX_FAILED_LOGINS of them are
    ever checked against the ID's hash (each attempt is counted before its check), every one answers the same 401,
    and the right password from that address is then refused while the lock holds."""
    settings.PASSWORD_HASHERS = [
        "tests.hashers.FastScryptPasswordHasher",
        "tests.hashers.CountingNaccsScryptPasswordHasher",
    ]
    settings.NSS_UTB_MAX_FAILED_LOGINS = 5
    broker = ready_id(ContractFactory(user_code="1ANAC"), identifier="A0A")
    CountingNaccsScryptPasswordHasher.checked.clear()

    def guess(index):
        return Client().get(API_UTB01, REMOTE_ADDR=GUESSER, **basic("1ANACA0A", f"WRONG{index:03d}"))

    results, errors = race(guess, GUESSES, no_thread_may_hang=True)

    assert errors == [None] * GUESSES
    assert {(response.status_code, response.content) for response in results} == {
        (results[0].status_code, results[0].content)
    }
    assert results[0].status_code == 401
    checked = CountingNaccsScryptPasswordHasher.checked.count(broker.password_hash)
    assert 1 <= checked <= settings.NSS_UTB_MAX_FAILED_LOGINS, f"{checked} guesses were checked"
    # locked: the right password from the guessing address is refused, and is not checked either
    assert (
        Client().get(API_UTB01, REMOTE_ADDR=GUESSER, **basic("1ANACA0A", READY_PASSWORD)).status_code == 401
    )
    assert CountingNaccsScryptPasswordHasher.checked.count(broker.password_hash) == checked
    state = NaccsLoginState.objects.get(naccs_user_id=broker, client_address=GUESSER)
    assert state.locked_until is not None
    # another address is not locked
    elsewhere = Client().get(API_UTB01, REMOTE_ADDR="198.51.100.20", **basic("1ANACA0A", READY_PASSWORD))
    assert elsewhere.status_code == 200


def test_a_clients_parallel_requests_with_its_verified_password_never_lock_it_out(require_postgres, settings):
    """Package software sends requests in parallel from one address. Once its password is verified, the
    requests are recognised from the cache and not counted, so more of them at once than the failure limit are
    all answered (counting them would refuse the excess as if they were guesses)."""
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    ready_id(ContractFactory(user_code="1ANAC"), identifier="A0A")
    assert Client().get(API_UTB01, REMOTE_ADDR=GUESSER, **basic("1ANACA0A")).status_code == 200

    def requests(index):
        client = Client()
        return [
            client.get(API_UTB01, REMOTE_ADDR=GUESSER, **basic("1ANACA0A")).status_code
            for _request in range(20)
        ]

    results, errors = race(requests, THREADS, no_thread_may_hang=True)

    assert errors == [None] * THREADS
    assert {code for codes in results for code in codes} == {200}


def test_concurrent_failed_logins_in_the_service_never_exceed_the_limit(require_postgres, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = THREADS // 2
    broker = ready_id(ContractFactory(user_code="1ANAC"), identifier="A0A")

    def fail(index):
        services.naccs_id_authenticate(
            user_id="1ANACA0A", password="WRONG123", client_address=GUESSER, now=MONDAY_10
        )

    _results, errors = race(fail, THREADS, no_thread_may_hang=True)

    # every thread was refused as a wrong password (none saw a database error)
    assert [type(error) for error in errors] == [services.UtbLoginError] * THREADS
    assert {error.message for error in errors} == {"利用者IDまたはパスワードが正しくありません。"}
    state = NaccsLoginState.objects.get(naccs_user_id=broker, client_address=GUESSER)
    assert state.failed_logins == THREADS // 2
    assert state.locked_until is not None
    with pytest.raises(services.UtbLoginError):
        services.naccs_id_authenticate(
            user_id="1ANACA0A", password=READY_PASSWORD, client_address=GUESSER, now=MONDAY_10
        )


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
