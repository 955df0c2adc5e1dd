"""識別番号 (identifier): 3 upper-case letters/digits, the last part of a 利用者ID (SPEC §2, §3)."""

import re
import unicodedata

IDENTIFIER_RE = re.compile(r"^[A-Z0-9]{3}$")
USER_CODE_RE = re.compile(r"^[A-Z0-9]{5}$")
NACCS_USER_ID_RE = re.compile(r"^[A-Z0-9]{8}$")


def normalise_identifier(raw: str) -> str:
    """Full-width → half-width (NFKC), lower → upper case, surrounding spaces (also full-width ones) dropped.

    The one normaliser for a 識別番号 and for a whole 利用者ID as typed (the UTB gateway's login and target ID)."""
    return unicodedata.normalize("NFKC", raw or "").strip().upper()


def is_valid_identifier(value: str) -> bool:
    return bool(IDENTIFIER_RE.fullmatch(value))
