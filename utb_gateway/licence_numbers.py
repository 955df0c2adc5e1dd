"""通関士証票番号 (licence number) input, exactly as the guide's part 3 says:

    035, 12345, 12-97  → entered as they are (left-aligned)
    12-7896            → 7896 (the part after the hyphen: the field holds at most 5 characters)

Customers type full-width digits and hyphen look-alikes (the guide's own sample is ２９－１０), so input is
normalised first, by the normaliser phone numbers use too (applications/hyphens.py). What is still not 1–5
characters of digits with at most one inner hyphen is refused (L0002).
"""

import re

from applications.hyphens import normalise_hyphenated_number

MAX_LENGTH = 5
VALID_RE = re.compile(r"^[0-9]+(?:-[0-9]+)?$")


def normalise(raw: str) -> str:
    """Width-fold (NFKC: ２９ → 29), hyphen look-alikes → "-", all whitespace dropped (inner too: "12 - 97")."""
    return normalise_hyphenated_number(raw)


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
