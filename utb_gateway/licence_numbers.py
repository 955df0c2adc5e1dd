"""通関士証票番号 (licence number) input, exactly as the guide's part 3 says:

    035, 12345, 12-97  → entered as they are (left-aligned)
    12-7896            → 7896 (the part after the hyphen: the field holds at most 5 characters)

Customers type full-width digits and hyphen look-alikes (the guide's own sample is ２９－１０), so input is
normalised first. What is still not 1–5 characters of digits with at most one inner hyphen is refused (L0002).
"""

import re
import unicodedata

MAX_LENGTH = 5
# Hyphen look-alikes seen in Japanese input: hyphen, non-breaking hyphen, figure dash, en/em dash, horizontal bar,
# minus sign, katakana prolonged sound mark (ー), full-width hyphen-minus (－), half-width prolonged mark (ｰ).
HYPHEN_LIKE = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70"
_HYPHENS = {ord(ch): "-" for ch in HYPHEN_LIKE}
VALID_RE = re.compile(r"^[0-9]+(?:-[0-9]+)?$")


def normalise(raw: str) -> str:
    """Width-fold (NFKC: ２９ → 29), hyphen look-alikes → "-", all whitespace dropped (inner too: "12 - 97")."""
    folded = unicodedata.normalize("NFKC", raw or "").translate(_HYPHENS)
    return "".join(folded.split())


def to_registered_form(normalised: str) -> str | None:
    """The value to register, or None when it cannot be one.

    1–5 characters of digits with at most one inner hyphen are kept as typed; a longer hyphenated number keeps the
    part after the hyphen when that part is 1–5 digits (12-7896 → 7896)."""
    if not normalised or not VALID_RE.fullmatch(normalised):
        return None
    if len(normalised) <= MAX_LENGTH:
        return normalised
    if "-" in normalised:
        after = normalised.split("-", 1)[1]
        if 1 <= len(after) <= MAX_LENGTH:
            return after
    return None
