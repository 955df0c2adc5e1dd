"""通関士証票番号 input exactly as the guide's part 3 says, plus the full-width input customers really type."""

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from utb_gateway import licence_numbers
from utb_gateway.licence_numbers import normalise, to_registered_form

REGISTERED_SHAPE = re.compile(r"^[0-9]+(?:-[0-9]+)?$")
FULL_WIDTH_DIGITS = {str(d): chr(ord("０") + d) for d in range(10)}
# The look-alikes the issue names (－ full-width hyphen-minus, ー prolonged sound mark, ‐ hyphen, − minus sign)
# and the others of the shared list (applications/hyphens.py).
HYPHENS = ["-", "－", "ー", "‐", "−", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "ｰ"]


def registered(raw: str) -> str | None:
    return to_registered_form(normalise(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the guide: entered as they are, left-aligned
        ("035", "035"),
        ("12345", "12345"),
        ("12-97", "12-97"),
        # the guide: 12-7896 is entered as 7896 (the part after the hyphen)
        ("12-7896", "7896"),
        ("7896", "7896"),
        # the guide's own sample
        ("２９－１０", "29-10"),
    ],
)
def test_the_guides_examples(raw, expected):
    assert registered(raw) == expected


@pytest.mark.parametrize("hyphen", ["－", "ー", "‐", "−", "ｰ", "\u2011", "\u2013", "\u2015"])
def test_hyphen_look_alikes_become_a_hyphen(hyphen):
    assert normalise(f"12{hyphen}97") == "12-97"
    assert registered(f"12{hyphen}97") == "12-97"
    assert registered(f"１２{hyphen}７８９６") == "7896"


def test_full_width_digits_are_folded():
    assert normalise("０３５") == "035"
    assert registered("１２３４５") == "12345"


@pytest.mark.parametrize("raw", [" 035", "035 ", "\u3000035\u3000", "\t035\n", "　０３５　"])
def test_surrounding_spaces_are_trimmed(raw):
    assert normalise(raw) == "035"
    assert registered(raw) == "035"


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12a",
        "Ａ１２",
        "123456",  # six digits: too long, no hyphen to cut at
        "１２３４５６",
        "12-345678",  # the part after the hyphen is still longer than 5
        "1-2-3",
        "-12",
        "12-",
        "12--3",
        "-",
        "12.97",
        "12/97",
        "12_97",
        "+123",
        "١٢٣",  # Arabic-Indic digits are not 0-9
    ],
)
def test_anything_else_is_refused(raw):
    assert registered(raw) is None


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", None])
def test_empty_input_normalises_to_nothing(raw):
    assert normalise(raw) == ""
    assert to_registered_form(normalise(raw)) is None


def test_the_field_holds_at_most_five_characters():
    assert licence_numbers.MAX_LENGTH == 5
    assert registered("1-345") == "1-345"
    assert registered("12-345") == "345"


# --- properties -------------------------------------------------------------------------------------------

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=8)


def widen(text: str, data) -> str:
    """The same number as a customer might type it: some digits full-width, any hyphen a look-alike."""
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(data.draw(st.sampled_from([ch, FULL_WIDTH_DIGITS[ch]])))
        elif ch == "-":
            out.append(data.draw(st.sampled_from(HYPHENS)))
        else:
            out.append(ch)
    return "".join(out)


@given(st.text())
@example("２９－１０")
@example("\x00")
@example("ﬀ")
def test_whatever_is_typed_the_result_is_refused_or_of_the_registered_shape(raw):
    result = registered(raw)
    if result is not None:
        assert REGISTERED_SHAPE.fullmatch(result), result
        assert 1 <= len(result) <= 5
        assert result.isascii()


@given(st.text())
def test_normalising_twice_registers_the_same_and_leaves_no_whitespace(raw):
    # (normalise itself is not idempotent on arbitrary text — NFKC can recompose "R¸" once its space is dropped —
    # but what gets registered is.)
    once = normalise(raw)
    assert to_registered_form(normalise(once)) == to_registered_form(once)
    assert not any(ch.isspace() for ch in once)


@given(st.text(alphabet="0123456789-", max_size=8))
def test_a_registered_value_registers_as_itself(raw):
    result = to_registered_form(raw)
    if result is not None:
        assert to_registered_form(result) == result


@given(st.text(alphabet="0123456789", min_size=1, max_size=5), st.data())
def test_up_to_five_digits_are_kept_as_typed(digits, data):
    spaces = st.sampled_from(["", " ", "\u3000", "  "])
    raw = data.draw(spaces) + widen(digits, data) + data.draw(spaces)
    assert registered(raw) == digits


@given(st.text(alphabet="0123456789", min_size=6, max_size=20), st.data())
def test_more_than_five_digits_without_a_hyphen_are_refused(digits, data):
    assert registered(widen(digits, data)) is None


@given(digit_strings, digit_strings, st.data())
def test_a_hyphenated_number(before, after, data):
    typed = widen(f"{before}-{after}", data)
    plain = f"{before}-{after}"
    result = registered(typed)
    if len(plain) <= 5:
        assert result == plain
    elif len(after) <= 5:
        assert result == after
    else:
        assert result is None


@given(st.text(min_size=1), st.data())
def test_a_letter_anywhere_is_refused(raw, data):
    letter = data.draw(st.sampled_from("AZaz"))
    position = data.draw(st.integers(min_value=0, max_value=len(raw)))
    assert registered(raw[:position] + letter + raw[position:]) is None


@given(digit_strings, digit_strings, st.data())
def test_full_width_input_registers_the_same_as_half_width(before, after, data):
    plain = f"{before}-{after}"
    assert registered(widen(plain, data)) == registered(plain)
