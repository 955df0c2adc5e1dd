"""The pure pieces of issuance (SPEC §4): 識別番号 allocation, initial passwords and the NACCS password rule,
encryption at rest with key rotation."""

import itertools
import re

import pytest
from cryptography.fernet import Fernet, InvalidToken

from applications import crypto
from applications.exceptions import DomainError
from applications.identifier_allocation import allocation_order, pick_identifiers
from applications.passwords import naccs_password_problem

# --- pick_identifiers ---


def test_a_free_desired_identifier_is_kept():
    assert pick_identifiers(["K12", "Z99"], {"AAA", "K13"}) == ["K12", "Z99"]


def test_a_desired_identifier_taken_in_the_contract_is_replaced_by_the_first_free_allocated_one():
    assert pick_identifiers(["K12"], {"K12", "AAA"}) == ["AAB"]


def test_a_desired_identifier_repeated_in_the_batch_is_given_once_then_allocated():
    assert pick_identifiers(["K12", "K12", "K12"], set()) == ["K12", "AAA", "AAB"]


def test_no_wish_gets_an_allocated_identifier_and_wishes_are_honoured_before_allocating():
    # "AAA" is asked by the second item: the first (no wish) must not take it from it.
    assert pick_identifiers(["", "AAA", ""], set()) == ["AAB", "AAA", "AAC"]


def test_allocated_identifiers_never_reuse_taken_ones_and_are_distinct():
    taken = set(itertools.islice(allocation_order(), 0, 200, 3))
    picked = pick_identifiers([""] * 50, taken)
    assert len(set(picked)) == 50
    assert not set(picked) & taken


def test_the_allocation_order_never_uses_o_or_i_and_starts_with_a_letter():
    order = list(allocation_order())
    assert len(order) == len(set(order)) == 24 * 34 * 34
    assert all(re.fullmatch(r"[A-HJ-NP-Z][A-HJ-NP-Z0-9]{2}", identifier) for identifier in order)


def test_allocated_identifiers_never_contain_o_or_i_even_when_the_wishes_do():
    picked = pick_identifiers(["OIO", "", ""], {"OIO"})
    assert not any(letter in identifier for identifier in picked for letter in "OI")


def test_exhaustion_is_refused_with_a_domain_error_saying_why():
    order = list(allocation_order())
    assert len(order) == 24 * 34 * 34
    taken = set(order[:5])
    free = len(order) - len(taken)
    assert pick_identifiers([""] * free, taken) == order[5:]
    with pytest.raises(DomainError) as refused:
        pick_identifiers([""] * (free + 1), taken)
    assert refused.value.code == "identifiers_exhausted"
    assert refused.value.field is None
    assert "払い出せる識別番号が残っていない" in refused.value.message


def test_a_free_desired_identifier_is_still_given_when_the_allocation_order_is_exhausted():
    taken = set(allocation_order())
    assert pick_identifiers(["O01", "I23"], taken) == ["O01", "I23"]
    with pytest.raises(DomainError):
        pick_identifiers(["O01", "A00"], taken)


def test_exhaustion_with_a_small_taken_set_from_a_truncated_order(monkeypatch):
    from applications import identifier_allocation

    small = ["AAA", "AAB", "AAC"]
    monkeypatch.setattr(identifier_allocation, "allocation_order", lambda: iter(small))
    taken = set(small[:2])
    assert pick_identifiers(["K12", ""], taken) == ["K12", "AAC"]
    with pytest.raises(DomainError):
        pick_identifiers(["", ""], taken)


# --- initial passwords and the NACCS rule ---


# How initial passwords are drawn (no look-alikes) is tested in tests/applications/test_initial_passwords.py.


@pytest.mark.parametrize("password", ["ABC123", "A1B2C3D4", "1234567A", "Z9ZZZZ"])
def test_a_password_of_6_to_8_upper_case_letters_and_digits_with_both_is_accepted(password):
    assert naccs_password_problem(password) is None


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("AB12C", "6～8文字"),
        ("ABCD12345", "6～8文字"),
        ("", "6～8文字"),
        ("abc123", "英大文字と数字だけ"),
        ("ABC 12", "英大文字と数字だけ"),
        ("ABC-12", "英大文字と数字だけ"),
        ("ＡＢＣ１２３", "英大文字と数字だけ"),
        ("ABCDEFG", "両方"),
        ("12345678", "両方"),
    ],
)
def test_a_password_breaking_the_naccs_rule_is_refused_with_the_reason(password, expected):
    problem = naccs_password_problem(password)
    assert problem is not None
    assert expected in problem


# --- encryption at rest ---


def test_encryption_round_trips_and_hides_the_secret(settings):
    settings.NSS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = crypto.encrypt("AB12CD34")
    assert "AB12CD34" not in token
    assert crypto.decrypt(token) == "AB12CD34"
    assert crypto.encrypt("AB12CD34") != token  # a fresh IV each time


def test_without_configured_keys_a_local_key_still_round_trips(settings):
    settings.NSS_ENCRYPTION_KEYS = []
    assert crypto.decrypt(crypto.encrypt("ZZ99ZZ99")) == "ZZ99ZZ99"


def test_a_token_of_an_unknown_key_is_refused(settings):
    settings.NSS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = crypto.encrypt("AB12CD34")
    settings.NSS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        crypto.decrypt(token)


def test_key_rotation_reads_old_tokens_and_rotate_reencrypts_with_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NSS_ENCRYPTION_KEYS = [old]
    old_token = crypto.encrypt("AB12CD34")

    settings.NSS_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(old_token) == "AB12CD34"
    assert Fernet(new.encode()).decrypt(crypto.encrypt("X1").encode()) == b"X1"  # new values use the new key
    rotated = crypto.rotate(old_token)
    assert rotated != old_token
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"AB12CD34"
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(rotated.encode())

    settings.NSS_ENCRYPTION_KEYS = [new]  # the old key retired: rotated tokens still read, old ones no longer
    assert crypto.decrypt(rotated) == "AB12CD34"
    with pytest.raises(InvalidToken):
        crypto.decrypt(old_token)
