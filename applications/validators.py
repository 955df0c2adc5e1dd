"""Field validators shared by every form and the JSON API: text a person types never contains control characters
(other than line breaks in multi-line fields) or lone surrogates, which no screen can show and PostgreSQL or the
UTF-8 codec would refuse half-way through a save."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    for character in value:
        category = unicodedata.category(character)
        if category == "Cs":
            return str(_("使用できない文字が含まれています。"))
        if category == "Cc" and not (multiline and character in ALLOWED_CONTROLS):
            return str(_("制御文字は使用できません。"))
        if category == "Cf" and character in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            return str(_("文字の向きを変える制御文字は使用できません。"))
    return None


def validate_single_line_text(value: str) -> None:
    problem = text_problem(value or "")
    if problem:
        raise ValidationError(problem, code="control_character")


def validate_multiline_text(value: str) -> None:
    problem = text_problem(value or "", multiline=True)
    if problem:
        raise ValidationError(problem, code="control_character")
