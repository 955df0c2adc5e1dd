"""One list of hyphen look-alikes (applications/hyphens.py), used alike by phone numbers and 通関士証票番号."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from applications.hyphens import HYPHEN_LIKE, normalise_hyphenated_number
from applications.rules import normalise_phone
from utb_gateway import licence_numbers

# What customers' input methods give for "-": the guide's ２９－１０ (full-width hyphen-minus), the prolonged sound
# mark (full- and half-width), hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar, minus sign.
EXPECTED_LOOK_ALIKES = ["－", "ー", "ｰ", "‐", "\u2011", "‒", "–", "—", "―", "−"]
CALLERS = {"phone": normalise_phone, "licence_number": licence_numbers.normalise}


def test_the_list_holds_every_look_alike_customers_type():
    assert sorted(HYPHEN_LIKE) == sorted(EXPECTED_LOOK_ALIKES)


@pytest.mark.parametrize("caller", CALLERS.values(), ids=CALLERS.keys())
@pytest.mark.parametrize("look_alike", list(HYPHEN_LIKE))
def test_every_hyphen_look_alike_becomes_a_hyphen_for_both_callers(caller, look_alike):
    assert caller(f"１２{look_alike}９７") == "12-97"


@pytest.mark.parametrize("caller", CALLERS.values(), ids=CALLERS.keys())
@pytest.mark.parametrize("other", ["〜", "_", "・", "~", "+"])
def test_characters_that_are_not_hyphens_are_kept(caller, other):
    assert caller(f"12{other}97") == f"12{other}97"


@given(st.text(alphabet=st.sampled_from("0123456789０１２３ 　\t" + HYPHEN_LIKE + "-~A"), max_size=20))
def test_phone_numbers_and_licence_numbers_are_normalised_by_the_same_rule(raw):
    expected = normalise_hyphenated_number(raw)
    assert normalise_phone(raw) == expected
    assert licence_numbers.normalise(raw) == expected
