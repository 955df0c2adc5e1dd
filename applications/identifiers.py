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


def user_code_clean(raw: str) -> str:
    """A 利用者コード as typed (any width or case) → its stored form; DomainError (field `user_code`) unless it is
    5 upper-case letters or digits. The one check of the code, for the contract screens and the import."""
    from django.utils.translation import gettext as _

    from .exceptions import DomainError

    code = normalise_identifier(raw)
    if not USER_CODE_RE.fullmatch(code):
        raise DomainError(
            _("利用者コードは英大文字・数字5文字で入力してください。"),
            field="user_code",
            code="user_code_shape",
        )
    return code


def is_valid_identifier(value: str) -> bool:
    return bool(IDENTIFIER_RE.fullmatch(value))
