"""The UTB login under attack (SPEC §10): a locked, an unknown and a wrong-password login look the same (answer and
time), and a lock holds per (利用者ID, client address), so a stranger cannot lock an ID out for everyone."""

import datetime
import statistics
import time

import pytest
from django.test import Client

from tests.hashers import CountingNaccsScryptPasswordHasher as Counting
from tests.html import Page
from tests.utb_gateway import MONDAY_10, READY_PASSWORD, ready_id
from tests.utb_gateway.test_views import API_UTB01, LOGIN, MENU, basic
from utb_gateway import services
from utb_gateway.models import NaccsLoginState

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.7"
BROKER_ELSEWHERE = "198.51.100.20"
REAL_HASHERS = ["tests.hashers.FastScryptPasswordHasher", "applications.hashers.NaccsScryptPasswordHasher"]


def api(client, user_id, password, address):
    return client.get(API_UTB01, REMOTE_ADDR=address, **basic(user_id, password))


def screen_login(client, user_id, password, address):
    return client.post(LOGIN, {"user_id": user_id, "password": password}, REMOTE_ADDR=address)


def lock_out(client, user_id, address, settings):
    for _attempt in range(settings.NSS_UTB_MAX_FAILED_LOGINS):
        assert api(client, user_id, "WRONG123", address).status_code == 401


# --- one answer for locked, unknown and wrong ---------------------------------------------------------------


def test_the_api_answers_locked_unknown_and_wrong_password_identically(client, broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    lock_out(client, "1ANACA0A", GUESSER, settings)

    answers = {
        "locked": api(client, "1ANACA0A", READY_PASSWORD, GUESSER),
        "unknown": api(client, "1ANACZZZ", READY_PASSWORD, GUESSER),
        "wrong": api(client, "1ANACA0A", "WRONG123", BROKER_ELSEWHERE),
    }

    shapes = {
        kind: (response.status_code, response.content, response["WWW-Authenticate"], response["Content-Type"])
        for kind, response in answers.items()
    }
    assert shapes["locked"] == shapes["unknown"] == shapes["wrong"]
    assert shapes["locked"][0] == 401


def test_the_login_screen_answers_locked_unknown_and_wrong_password_with_one_message(
    client, broker, settings
):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    for _attempt in range(3):
        screen_login(client, "1ANACA0A", "WRONG123", GUESSER)

    errors = {
        "locked": Page(screen_login(client, "1ANACA0A", READY_PASSWORD, GUESSER)).page_errors(),
        "unknown": Page(screen_login(client, "1ANACZZZ", READY_PASSWORD, GUESSER)).page_errors(),
        "wrong": Page(screen_login(client, "1ANACA0A", "WRONG123", BROKER_ELSEWHERE)).page_errors(),
    }

    assert (
        errors["locked"]
        == errors["unknown"]
        == errors["wrong"]
        == "利用者IDまたはパスワードが正しくありません。"
    )
    assert "ロック" not in errors["locked"]


def test_locked_unknown_and_wrong_password_take_the_same_time(client, office, settings):
    """With the real hasher (scrypt, N=2^15): one hash check whatever the state, so a locked ID cannot be told
    from an unknown one or a wrong password by the time the answer takes. Measured interleaved, median of each."""
    settings.PASSWORD_HASHERS = REAL_HASHERS
    settings.NSS_UTB_MAX_FAILED_LOGINS = 2
    ready_id(office, identifier="A0A")  # hashed with the real cost
    ready_id(office, identifier="B01")
    lock_out(client, "1ANACA0A", GUESSER, settings)
    settings.NSS_UTB_MAX_FAILED_LOGINS = 1000  # the wrong-password series must not lock B01 on the way
    tries = {
        "locked": lambda index: api(client, "1ANACA0A", READY_PASSWORD, GUESSER),
        "unknown": lambda index: api(client, f"1ANACZ{index:02d}", READY_PASSWORD, GUESSER),
        "wrong": lambda index: api(client, "1ANACB01", f"WRONG{index:03d}", GUESSER),
    }
    durations = {kind: [] for kind in tries}
    bodies = {kind: set() for kind in tries}

    for index in range(9):
        for kind, attempt in tries.items():
            started = time.perf_counter()
            response = attempt(index)
            durations[kind].append(time.perf_counter() - started)
            bodies[kind].add((response.status_code, response.content))

    assert bodies["locked"] == bodies["unknown"] == bodies["wrong"]
    medians = {kind: statistics.median(values) for kind, values in durations.items()}
    for first, second in (("locked", "wrong"), ("unknown", "wrong"), ("locked", "unknown")):
        ratio = medians[first] / medians[second]
        assert 0.5 <= ratio <= 2, (
            f"{first} {medians[first] * 1000:.1f} ms vs {second} {medians[second] * 1000:.1f} ms"
        )


# --- the lock is per (利用者ID, client address) ---------------------------------------------------------------


def test_failures_from_one_address_lock_that_address_only_until_the_minutes_pass(
    client, broker, settings, frozen_clock
):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    settings.NSS_UTB_LOCKOUT_MINUTES = 15
    lock_out(client, "1ANACA0A", GUESSER, settings)

    # the broker, from its own address, is not locked out by the stranger's guesses
    assert api(client, "1ANACA0A", READY_PASSWORD, BROKER_ELSEWHERE).status_code == 200
    # from the guessing address even the right password is refused …
    assert api(client, "1ANACA0A", READY_PASSWORD, GUESSER).status_code == 401
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=14, seconds=59))
    assert api(client, "1ANACA0A", READY_PASSWORD, GUESSER).status_code == 401
    # … until the lock has run out
    frozen_clock.move_to(MONDAY_10 + datetime.timedelta(minutes=15, seconds=1))
    assert api(client, "1ANACA0A", READY_PASSWORD, GUESSER).status_code == 200


def test_the_screen_login_is_locked_per_address_too(broker, settings, frozen_clock):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 2
    stranger, owner = Client(), Client()
    for _attempt in range(2):
        screen_login(stranger, "1ANACA0A", "WRONG123", GUESSER)

    assert screen_login(owner, "1ANACA0A", READY_PASSWORD, BROKER_ELSEWHERE).url == MENU
    assert screen_login(stranger, "1ANACA0A", READY_PASSWORD, GUESSER).status_code == 200


def test_a_forged_x_forwarded_for_does_not_change_the_address(client, broker, settings, frozen_clock):
    """With no trusted proxy (NSS_TRUSTED_PROXY_COUNT=0, the default) the address is REMOTE_ADDR: a guesser cannot
    escape the lock by sending a new X-Forwarded-For with each try."""
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    for index in range(3):
        response = client.get(
            API_UTB01,
            REMOTE_ADDR=GUESSER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{index}",
            **basic("1ANACA0A", "WRONG1"),
        )
        assert response.status_code == 401
    response = client.get(
        API_UTB01, REMOTE_ADDR=GUESSER, HTTP_X_FORWARDED_FOR="192.0.2.99", **basic("1ANACA0A")
    )
    assert response.status_code == 401


# --- the service ------------------------------------------------------------------------------------------------


def authenticate(password, address, *, now=MONDAY_10):
    return services.naccs_id_authenticate(
        user_id="1ANACA0A", password=password, client_address=address, now=now
    )


def test_the_lock_state_is_one_row_per_id_and_address(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    for address in (GUESSER, BROKER_ELSEWHERE, GUESSER):
        with pytest.raises(services.UtbLoginError):
            authenticate("WRONG123", address)
    rows = {
        row.client_address: row.failed_logins for row in NaccsLoginState.objects.filter(naccs_user_id=broker)
    }
    assert rows == {GUESSER: 2, BROKER_ELSEWHERE: 1}
    assert authenticate(READY_PASSWORD, GUESSER) == broker
    # a success resets its own address only
    rows = {
        row.client_address: row.failed_logins for row in NaccsLoginState.objects.filter(naccs_user_id=broker)
    }
    assert rows == {GUESSER: 0, BROKER_ELSEWHERE: 1}


def test_a_lock_that_has_run_out_starts_the_count_afresh(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 2
    settings.NSS_UTB_LOCKOUT_MINUTES = 10
    for _attempt in range(2):
        with pytest.raises(services.UtbLoginError):
            authenticate("WRONG123", GUESSER)
    later = MONDAY_10 + datetime.timedelta(minutes=10, seconds=1)
    with pytest.raises(services.UtbLoginError):
        authenticate("WRONG123", GUESSER, now=later)
    # one failure after the lock ran out is one of a new count, not a new lock
    assert authenticate(READY_PASSWORD, GUESSER, now=later) == broker


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8:0:0:1:2:3:4", "2001:db8::/64"),
        ("2001:db8::ffff:1", "2001:db8::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
        (None, ""),
        ("not an address", ""),
    ],
)
def test_the_lockout_key_of_an_address(address, key):
    """IPv6 by its /64 (one subscriber's network: a guesser has billions of addresses in it), IPv4 as it is."""
    assert services.lockout_address(address) == key


# --- the verified-password cache never lets a guess go uncounted ----------------------------------------------


COUNTING_HASHERS = [
    "tests.hashers.FastScryptPasswordHasher",
    "tests.hashers.CountingNaccsScryptPasswordHasher",
]


def test_a_password_proved_from_one_address_is_checked_and_counted_again_from_another(office, settings):
    """The cache of verified passwords is keyed by the address too: the broker's warm cache at its own address
    gives a guesser elsewhere nothing — each of their guesses, even the right password, is counted and checked."""
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    broker = ready_id(office, identifier="A0A")
    Counting.checked.clear()
    for _request in range(3):
        assert authenticate(READY_PASSWORD, BROKER_ELSEWHERE) == broker
    assert Counting.checked.count(broker.password_hash) == 1  # checked once, then recognised

    for _attempt in range(2):
        with pytest.raises(services.UtbLoginError):
            authenticate("WRONG123", GUESSER)
    assert authenticate(READY_PASSWORD, GUESSER) == broker  # the right one from here: checked, not looked up
    assert Counting.checked.count(broker.password_hash) == 4


def test_a_lock_holds_even_for_a_password_this_address_proved_before(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 2
    assert authenticate(READY_PASSWORD, GUESSER) == broker  # proved (and cached) from here
    for _attempt in range(2):
        with pytest.raises(services.UtbLoginError):
            authenticate("WRONG123", GUESSER)
    with pytest.raises(services.UtbLoginError) as refused:
        authenticate(READY_PASSWORD, GUESSER)
    assert refused.value.message == "利用者IDまたはパスワードが正しくありません。"
    assert authenticate(READY_PASSWORD, BROKER_ELSEWHERE) == broker


def test_a_success_from_the_cache_resets_the_failures_of_its_address(broker, settings):
    settings.NSS_UTB_MAX_FAILED_LOGINS = 3
    assert authenticate(READY_PASSWORD, GUESSER) == broker
    for _round in range(3):
        for _attempt in range(2):
            with pytest.raises(services.UtbLoginError):
                authenticate("WRONG123", GUESSER)
        assert authenticate(READY_PASSWORD, GUESSER) == broker  # from the cache
    assert NaccsLoginState.objects.get(naccs_user_id=broker, client_address=GUESSER).failed_logins == 0


def test_an_unknown_id_or_a_locked_one_costs_one_dummy_check_and_no_real_one(office, settings):
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    settings.NSS_UTB_MAX_FAILED_LOGINS = 1
    broker = ready_id(office, identifier="A0A")
    with pytest.raises(services.UtbLoginError):
        authenticate("WRONG123", GUESSER)  # locks at once (limit 1)
    Counting.checked.clear()
    with pytest.raises(services.UtbLoginError):
        authenticate(READY_PASSWORD, GUESSER)
    with pytest.raises(services.UtbLoginError):
        services.naccs_id_authenticate(
            user_id="1ANACZZZ", password=READY_PASSWORD, client_address=GUESSER, now=MONDAY_10
        )
    assert len(Counting.checked) == 2
    assert broker.password_hash not in Counting.checked
