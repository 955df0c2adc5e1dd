"""The one text check (SPEC §10): control characters, lone surrogates and characters that render as nothing are
refused with a message, line breaks only where text is multi-line."""

import pytest

from applications.validators import text_problem


# 葛\U000e0100: a kanji with an ideographic variation selector (category Mn), as Japanese family registers use.
@pytest.mark.parametrize(
    "value", ["山田 太郎", "ﾔﾏﾀﾞ", "O'Brien", "通関\u3000士", "😀", "葛\U000e0100城", "Ａ－１"]
)
def test_ordinary_text_passes(value):
    assert text_problem(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x00b", "制御文字は使用できません。"),
        ("\x1b[31m", "制御文字は使用できません。"),
        ("line\nbreak", "制御文字は使用できません。"),
        ("abc\u202edef", "文字の向きを変える制御文字は使用できません。"),
        ("\ud800", "使用できない文字が含まれています。"),
        ("abc\u2067def", "文字の向きを変える制御文字は使用できません。"),
        ("\u200e", "文字の向きを変える制御文字は使用できません。"),
    ]
    + [
        (f"山田{invisible}太郎", "見えない文字（ゼロ幅スペースなど）は使用できません。")
        for invisible in (
            "\u200b",  # zero-width space
            "\u200c",  # zero-width non-joiner
            "\u200d",  # zero-width joiner
            "\u2060",  # word joiner
            "\ufeff",  # BOM / zero-width no-break space
            "\u00ad",  # soft hyphen
            "\u3164",  # Hangul filler
            "\uffa0",  # halfwidth Hangul filler
            "\u115f",
            "\u1160",
            "\u2063",  # invisible separator
            "\u180e",  # Mongolian vowel separator
            "\U000e0041",  # tag character
        )
    ],
)
def test_single_line_text_refuses(value, message):
    assert text_problem(value) == message


def test_multiline_text_keeps_line_breaks_and_tabs_but_not_other_controls():
    assert text_problem("一行目\r\n二行目\tタブ", multiline=True) is None
    assert text_problem("a\x00b", multiline=True) == "制御文字は使用できません。"


@pytest.mark.django_db
def test_the_applicant_form_shows_the_message_next_to_the_field(customer_client, customer):
    from django.urls import reverse

    from applications.services import application_draft_start
    from tests.html import Page

    draft = application_draft_start(user=customer)
    response = customer_client.post(
        reverse("applications:applicant", kwargs={"pk": draft.pk}),
        {"name": "山田\x1b太郎", "department": "", "phone": "03-1234-5678", "email": "a@example.com"},
    )
    assert "制御文字は使用できません。" in Page(response).field_errors("name")
    draft.refresh_from_db()
    assert draft.applicant_name != "山田\x1b太郎"


def test_a_value_made_only_of_invisible_characters_is_refused():
    assert text_problem("\u200b\u200b\u3164") == "見えない文字（ゼロ幅スペースなど）は使用できません。"
    assert text_problem("\u00ad", multiline=True) == "見えない文字（ゼロ幅スペースなど）は使用できません。"
