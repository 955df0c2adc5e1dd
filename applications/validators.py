"""The one text check of the project, shared by every form and the JSON API (SPEC §10 "Text input").

Text a person types never contains:
- control characters (other than line breaks and tabs in multi-line fields): no screen shows them, an e-mail
  header cannot carry them, PostgreSQL refuses NUL half-way through a save;
- lone surrogates (only reachable through JSON escapes): the UTF-8 codec refuses them;
- characters that render as nothing: every format character (Unicode category Cf — zero-width space and joiners,
  word joiner, BOM, soft hyphen, bidirectional overrides, invisible operators, tag characters) and the Hangul
  fillers (letters that draw nothing). Two names that look identical would otherwise be different strings, and a
  name made only of them would look empty.
The value is refused with a message next to the field, never silently changed: what is stored is what the person
saw and typed.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALLOWED_CONTROLS = {"\t", "\n", "\r"}
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters (category Lo) that draw nothing: Hangul choseong/jungseong fillers, Hangul filler, halfwidth filler.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The message for the first character `value` may not contain, or None."""
    for character in value:
        category = unicodedata.category(character)
        if category == "Cs":
            return str(_("使用できない文字が含まれています。"))
        if category == "Cc" and not (multiline and character in ALLOWED_CONTROLS):
            return str(_("制御文字は使用できません。"))
        if character in BIDI_CONTROLS:
            return str(_("文字の向きを変える制御文字は使用できません。"))
        if category == "Cf" or character in INVISIBLE_LETTERS:
            return str(_("見えない文字（ゼロ幅スペースなど）は使用できません。"))
    return None


def validate_single_line_text(value: str) -> None:
    problem = text_problem(value or "")
    if problem:
        raise ValidationError(problem, code="control_character")


def validate_multiline_text(value: str) -> None:
    problem = text_problem(value or "", multiline=True)
    if problem:
        raise ValidationError(problem, code="control_character")
