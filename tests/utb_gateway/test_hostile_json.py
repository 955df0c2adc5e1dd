"""Hostile JSON at the UTB API (SPEC §10 "Text input"): a lone surrogate or a control character in any string of the
body — a value or a key, at any depth — is a 400; a value of the wrong type is the result code the field gives for
wrong input; nothing of it ever reaches UtbAttempt or LicenceRegistration, and nothing is ever a 500.

Invisible format characters (zero-width space and joiner, BOM, soft hyphen, Hangul filler) likewise: the API calls the
project's one text check, applications.validators.text_problem, on every string at every depth."""

import json
import unicodedata

import pytest
from django.test import Client
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from tests.factories import ContractFactory, NaccsUserIdFactory
from tests.utb_gateway import READY_PASSWORD, ready_id
from tests.utb_gateway.test_views import API_UTB, basic
from utb_gateway.models import LicenceRegistration, UtbAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

FORMAT_CHARACTERS = "\u200b\u200d\ufeff\u00ad\u3164"


@pytest.fixture
def broker():
    office = ContractFactory(user_code="1ANAC")
    NaccsUserIdFactory(contract=office, identifier="Y27")
    return ready_id(office, identifier="A0A")


def post(body: str | bytes):
    """Through a client that turns an exception into the 500 a caller would get."""
    client = Client(raise_request_exception=False)
    response = client.post(
        API_UTB, data=body, content_type="application/json", **basic("1ANACA0A", READY_PASSWORD)
    )
    assert response.status_code != 500, getattr(response, "exc_info", None)
    return response


def bad_character(text: str, *, with_format: bool) -> bool:
    return any(
        unicodedata.category(character) in {"Cs", "Cc"} or (with_format and character in FORMAT_CHARACTERS)
        for character in text
    )


def stored_texts() -> list[str]:
    texts = []
    for attempt in UtbAttempt.objects.all():
        texts += [attempt.target_user_id, attempt.raw_licence_number, attempt.normalised_licence_number]
    texts += list(LicenceRegistration.objects.values_list("licence_number", flat=True))
    return texts


def strings_of(document) -> list[str]:
    pending, found = [document], []
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            pending += list(value) + list(value.values())
        elif isinstance(value, list):
            pending += value
    return found


def assert_refused_as_bad_text(response):
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "bad_request"
    assert answer["message"]
    assert not UtbAttempt.objects.exists()
    assert not LicenceRegistration.objects.exists()


# --- the bodies that answered 500 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        r'{"user_id": ["\ud800"], "licence_number": {"a": "\udfff"}}',
        r'{"user_id": "1ANACY27", "licence_number": "035", "extra": [[{"deep": ["\ud83d"]}]]}',
        r'{"user_id": {"\ud800": "1ANACY27"}, "licence_number": "035"}',
        r'{"\udc00": 1, "user_id": "1ANACY27", "licence_number": "035"}',
        r'{"user_id": "1ANACY27", "licence_number": ["\u0000"]}',
        r'{"user_id": [{"x": "1ANAC\u001bY27"}], "licence_number": "035"}',
        r'{"user_id": "1ANACY27", "licence_number": "035", "note\u0007": true}',
        r'{"user_id": "1ANACY27", "licence_number": {"k": "a\nb"}}',
    ],
    ids=[
        "nested-surrogates",
        "deep-surrogate",
        "surrogate-key-nested",
        "surrogate-key",
        "nested-nul",
        "nested-escape",
        "control-in-key",
        "newline-nested",
    ],
)
def test_a_lone_surrogate_or_control_character_anywhere_in_the_body_is_a_400(broker, body):
    assert_refused_as_bad_text(post(body))


@pytest.mark.parametrize("character", list(FORMAT_CHARACTERS), ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["value", "nested", "key"])
def test_an_invisible_format_character_anywhere_in_the_body_is_a_400(broker, character, where):
    bodies = {
        "value": {"user_id": f"1ANAC{character}Y27", "licence_number": "035"},
        "nested": {"user_id": "1ANACY27", "licence_number": "035", "extra": [{"a": f"x{character}"}]},
        "key": {"user_id": "1ANACY27", "licence_number": "035", f"k{character}": 1},
    }
    assert_refused_as_bad_text(post(json.dumps(bodies[where])))


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("user_id", ["1ANACY27"], "S0002"),
        ("user_id", {"id": "1ANACY27"}, "S0002"),
        ("user_id", 12345678, "S0002"),
        ("user_id", True, "S0002"),
        ("user_id", [], "S0002"),
        ("licence_number", ["035"], "L0002"),
        ("licence_number", {"n": [1, {"m": None}]}, "L0002"),
        ("licence_number", 35, "L0002"),
        ("licence_number", False, "L0002"),
    ],
)
def test_a_value_that_is_not_a_string_answers_the_fields_result_code(broker, field, value, code):
    body = {"user_id": "1ANACY27", "licence_number": "035", field: value}
    response = post(json.dumps(body))
    assert response.status_code == 200
    assert response.json()["result_code"] == code
    assert response.json()["licence_number"] is None
    assert not LicenceRegistration.objects.exists()
    assert UtbAttempt.objects.get().result_code == code


# --- the property --------------------------------------------------------------------------------------------

PLAIN = ["", "1ANACY27", "035", "２９－１０", "12-7896", "user_id", "licence_number"]


def texts(alphabet):
    """Plausible values with hostile characters in them, or nothing but hostile characters."""
    return st.one_of(
        st.tuples(st.sampled_from(PLAIN), st.text(alphabet=alphabet, max_size=3), st.sampled_from(PLAIN)).map(
            "".join
        ),
        st.text(alphabet=alphabet, max_size=8),
    )


def json_documents(text):
    values = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), text),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
        max_leaves=10,
    )
    fields = st.fixed_dictionaries(
        {}, optional={"user_id": st.one_of(text, values), "licence_number": values}
    )
    return st.tuples(fields, st.dictionaries(text, values, max_size=2)).map(
        lambda pair: {**pair[1], **pair[0]}
    )


def encodings(document):
    """ASCII JSON (a lone surrogate as its \\udXXX escape), and raw UTF-8 where there is no surrogate (with one,
    the surrogate's own bytes, which are not UTF-8)."""
    return st.sampled_from(
        [json.dumps(document), json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")]
    )


SURROGATES_AND_CONTROLS = st.one_of(
    st.characters(categories=["Cs"]),
    st.characters(categories=["Cc"]),
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Cf"]),
    st.sampled_from("\u00a0\u3000－ー"),
)
WITH_FORMAT_CHARACTERS = st.one_of(SURROGATES_AND_CONTROLS, st.sampled_from(FORMAT_CHARACTERS))


@settings(max_examples=150)
@given(data=st.data())
def test_nested_json_with_surrogates_and_control_characters_never_fails_and_never_stores_them(broker, data):
    document = data.draw(json_documents(texts(SURROGATES_AND_CONTROLS)), label="document")
    response = post(data.draw(encodings(document), label="body"))

    assert response.status_code in {200, 400}
    answer = response.json()
    if any(bad_character(text, with_format=False) for text in strings_of(document)):
        assert response.status_code == 400, answer
    if response.status_code == 200:
        assert answer["result_code"] and answer["message"]
    else:
        assert answer["error"] == "bad_request" and answer["message"]
    for text in stored_texts():
        assert not bad_character(text, with_format=False), f"{text!r} was stored"


@settings(
    max_examples=60,
    phases=[Phase.explicit, Phase.generate],
)
@given(document=json_documents(texts(WITH_FORMAT_CHARACTERS)))
@example(document={"user_id": "1ANAC\u200bY27", "licence_number": "0\u00ad35"})
def test_nested_json_with_invisible_format_characters_is_refused_and_never_stores_them(broker, document):
    response = post(json.dumps(document))
    assert response.status_code in {200, 400}
    if any(bad_character(text, with_format=True) for text in strings_of(document)):
        assert response.status_code == 400, response.json()
    for text in stored_texts():
        assert not bad_character(text, with_format=True), f"{text!r} was stored"
