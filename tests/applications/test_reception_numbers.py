"""申込受付番号: 7 digits + a check letter that catches a mistyped digit or two swapped neighbours."""

import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications.exceptions import DomainError
from applications.reception_numbers import (
    check_letter,
    is_valid_reception_number,
    reception_number_from_sequence,
    reception_number_typed,
)

SHAPE = re.compile(r"^[0-9]{7}[A-Z]$")

# A sample spread over the whole range, plus the ends and some repetitive numbers.
SAMPLE_DIGITS = [
    "1000000",
    "1000001",
    "1751795",
    "1234567",
    "9876543",
    "5555555",
    "1010101",
    "9999999",
    "4082936",
    "7000007",
]


def single_digit_changes(digits: str):
    for position in range(7):
        for replacement in "0123456789":
            if replacement != digits[position]:
                yield digits[:position] + replacement + digits[position + 1 :]


def adjacent_swaps(digits: str):
    for position in range(6):
        a, b = digits[position], digits[position + 1]
        if a != b:
            yield digits[:position] + b + a + digits[position + 2 :]


# --- check_letter ---


@pytest.mark.parametrize(
    ("digits", "letter"),
    [
        # Worked by hand from the documented algorithm:
        # Σ digit × (8,7,6,5,4,3,2), mod 23, in A–Z without I, O, Z.
        ("0000000", "A"),  # 0
        ("1000000", "J"),  # 8 → 9th letter (I skipped)
        ("1000001", "L"),  # 10
        ("1751795", "V"),  # 8+49+30+5+28+27+10 = 157 = 6×23 + 19
        ("9999999", "S"),  # 9×35 = 315 = 13×23 + 16
        ("0000010", "D"),  # 1×3 = 3
        ("0000100", "E"),  # 1×4 = 4
    ],
)
def test_check_letter_follows_the_documented_weights_and_alphabet(digits, letter):
    assert check_letter(digits) == letter


@pytest.mark.parametrize("digits", SAMPLE_DIGITS)
def test_every_single_digit_change_changes_the_check_letter(digits):
    letter = check_letter(digits)
    for mistyped in single_digit_changes(digits):
        assert check_letter(mistyped) != letter, f"{digits} → {mistyped} not caught"


@pytest.mark.parametrize("digits", SAMPLE_DIGITS)
def test_every_adjacent_swap_changes_the_check_letter(digits):
    letter = check_letter(digits)
    for swapped in adjacent_swaps(digits):
        assert check_letter(swapped) != letter, f"{digits} → {swapped} not caught"


@hypothesis_settings(max_examples=300)
@given(st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}"))
def test_no_single_digit_change_or_adjacent_swap_keeps_the_check_letter(digits):
    letter = check_letter(digits)
    for other in [*single_digit_changes(digits), *adjacent_swaps(digits)]:
        assert check_letter(other) != letter


def test_check_letter_is_never_a_confusable_letter():
    letters = {check_letter(f"{n:07d}") for n in range(0, 10_000_000, 997)}
    assert letters.isdisjoint({"I", "O", "Z"})
    # and the whole 23-letter alphabet is in use, so no letter is wasted
    assert len(letters) == 23


@pytest.mark.parametrize(
    "digits", ["", "123456", "12345678", "12345a7", "123 456", "１２３４５６７", "-123456"]
)
def test_check_letter_refuses_anything_but_seven_ascii_digits(digits):
    with pytest.raises(ValueError):
        check_letter(digits)


# --- reception_number_from_sequence ---


def test_first_reception_number_is_1000001_with_its_check_letter():
    assert reception_number_from_sequence(1) == "1000001L"


@pytest.mark.parametrize("sequence_value", [1, 2, 750_000, 1_234_567, 8_999_999])
def test_reception_number_is_seven_digits_and_a_valid_check_letter(sequence_value):
    number = reception_number_from_sequence(sequence_value)
    assert SHAPE.fullmatch(number)
    assert int(number[:7]) == 1_000_000 + sequence_value
    assert is_valid_reception_number(number)


def test_last_reception_number_is_9999999():
    assert reception_number_from_sequence(8_999_999) == "9999999S"


@pytest.mark.parametrize("sequence_value", [9_000_000, 9_000_001, 12_345_678])
def test_a_sequence_value_past_the_last_number_is_refused_with_a_domain_error_saying_why(sequence_value):
    with pytest.raises(DomainError) as refused:
        reception_number_from_sequence(sequence_value)
    assert refused.value.code == "reception_numbers_exhausted"
    assert refused.value.field is None
    assert "申込受付番号を払い出せない" in refused.value.message


@pytest.mark.parametrize("sequence_value", [0, -1])
def test_a_sequence_value_the_database_never_hands_out_is_a_programming_error(sequence_value):
    with pytest.raises(ValueError):
        reception_number_from_sequence(sequence_value)


def test_distinct_sequence_values_give_distinct_reception_numbers():
    numbers = {reception_number_from_sequence(n) for n in range(1, 2001)}
    assert len(numbers) == 2000


# --- is_valid_reception_number ---


@pytest.mark.parametrize("value", ["1000001L", "1751795V", "9999999S", " 1000001L ", "1000001l"])
def test_reception_number_with_its_check_letter_is_valid(value):
    assert is_valid_reception_number(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "1000001K",  # wrong letter
        "1000001",  # letter missing
        "100001L",  # a digit missing
        "10000011L",  # a digit too many
        "1000001LL",
        "L1000001",
        "10000-1L",
        "1000001I",  # I is never a check letter
        "",
        None,
    ],
)
def test_reception_number_of_wrong_shape_or_letter_is_invalid(value):
    assert is_valid_reception_number(value) is False


@pytest.mark.parametrize("digits", ["1751795", "1000001", "4082936"])
def test_every_mistyped_digit_or_swap_of_a_valid_number_is_caught(digits):
    letter = check_letter(digits)
    assert is_valid_reception_number(digits + letter)
    for other in [*single_digit_changes(digits), *adjacent_swaps(digits)]:
        assert is_valid_reception_number(other + letter) is False


# --- reception_number_typed (the staff search) ---


def test_seven_digits_are_the_number_with_its_check_letter_added():
    assert reception_number_typed("1751795") == "1751795" + check_letter("1751795")
    assert reception_number_typed(" 1000001l ") == "1000001L"


@pytest.mark.parametrize("text", ["", "7QZRX", "みなと海運", "175179", "17517950", "1751795BB", "A1751795"])
def test_what_is_not_shaped_like_a_number_is_some_other_search(text):
    assert reception_number_typed(text) is None


def test_a_wrong_check_letter_is_refused_naming_the_letter_and_the_right_one():
    right = check_letter("1751795")
    with pytest.raises(DomainError) as refused:
        reception_number_typed("1751795B" if right != "B" else "1751795C")
    assert refused.value.code == "reception_number_check_letter"
    assert refused.value.field == "q"
    assert f"「{right}」" in str(refused.value.message)


@given(st.text(max_size=12))
def test_any_text_is_a_valid_number_none_or_a_refusal_never_an_error(text):
    try:
        number = reception_number_typed(text)
    except DomainError as refused:
        assert refused.code == "reception_number_check_letter"
    else:
        assert number is None or is_valid_reception_number(number)
