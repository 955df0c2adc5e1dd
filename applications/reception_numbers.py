"""申込受付番号 (reception number): 7 digits and a check letter, e.g. ``1751795B`` as in the guide.

The digits are ``1000000 + n`` where ``n`` is the id of a row in ReceptionNumberAllocation, inserted inside the
submission transaction: the database hands out each id once, so two submissions never share a number. On
PostgreSQL a rolled-back id is a gap, never a repeat; on SQLite (local demo only) a rolled-back id can be handed
out again, which is harmless because nobody saw it (the receipt e-mail is sent only after commit).
That leaves 8,999,999 numbers; once they are all used, a submission is refused with a DomainError (the customer is
told, nothing is filed) rather than failing with a server error.

The guide's sample ``1751795B`` only shows the shape: under this algorithm its check letter would be ``V``.

Check letter (so that a mistyped number is caught before it is looked up):

    weights  8 7 6 5 4 3 2  for the 7 digits, left to right
    s        = Σ digit × weight
    letter   = CHECK_ALPHABET[s mod 23]

CHECK_ALPHABET is A–Z without I, O (confusable with 1, 0) and Z (confusable with 2): 23 letters. Because 23 is
prime and every weight and every difference of two weights is between 1 and 22, the letter changes whenever one
digit is mistyped or two adjacent digits are swapped.
"""

import re

from django.utils.translation import gettext as _

from .exceptions import DomainError

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXY"
WEIGHTS = (8, 7, 6, 5, 4, 3, 2)
FIRST_NUMBER = 1_000_000
LAST_NUMBER = 9_999_999
RECEPTION_NUMBER_RE = re.compile(r"^[0-9]{7}[A-Z]$")


def check_letter(digits: str) -> str:
    if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
        raise ValueError("a reception number has exactly 7 digits")
    total = sum(int(digit) * weight for digit, weight in zip(digits, WEIGHTS, strict=True))
    return CHECK_ALPHABET[total % len(CHECK_ALPHABET)]


def reception_number_from_sequence(sequence_value: int) -> str:
    """The number of the allocation row `sequence_value` (1 … 8,999,999)."""
    if sequence_value < 1:
        # The database never hands out such an id: a caller's mistake, not a situation to tell the customer about.
        raise ValueError("a reception number sequence value starts at 1")
    number = FIRST_NUMBER + sequence_value
    if number > LAST_NUMBER:
        raise DomainError(
            _(
                "申込受付番号を払い出せないため、申込を登録できませんでした。"
                "お手数ですが、NACCSセンターにお問い合わせください。"
            ),
            code="reception_numbers_exhausted",
        )
    digits = f"{number:07d}"
    return digits + check_letter(digits)


def is_valid_reception_number(value: str) -> bool:
    """Shape and check letter."""
    value = (value or "").strip().upper()
    return bool(RECEPTION_NUMBER_RE.fullmatch(value)) and check_letter(value[:7]) == value[7]


def reception_number_typed(text: str) -> str | None:
    """What a person typed to find an application (already width-folded): the full reception number when it is
    one, with or without its check letter (7 digits: the letter is added); None when it is not shaped like one
    (then it is some other search). A number whose check letter is wrong is a typing mistake: refused, naming the
    letter, so that nobody gets "no such application" for a number they misread."""
    value = (text or "").strip().upper()
    if re.fullmatch(r"[0-9]{7}", value):
        return value + check_letter(value)
    if not RECEPTION_NUMBER_RE.fullmatch(value):
        return None
    if not is_valid_reception_number(value):
        raise DomainError(
            _(
                "申込受付番号 %(number)s のチェック文字「%(given)s」が違います（%(digits)s のチェック文字は「%(expected)s」です）。"
            )
            % {"number": value, "given": value[7], "digits": value[:7], "expected": check_letter(value[:7])},
            code="reception_number_check_letter",
            field="q",
        )
    return value
