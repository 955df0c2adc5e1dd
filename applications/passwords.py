"""Passwords of issued 利用者IDs (NACCS rules).

The initial password is generated here with `secrets`; the NACCS password rule (used again by the UTB gateway's
password change) is `naccs_password_problem`.
"""

import secrets
import string

from django.contrib.auth.hashers import check_password, make_password
from django.utils.translation import gettext as _

ALPHABET_LETTERS = string.ascii_uppercase
ALPHABET_DIGITS = string.digits
INITIAL_PASSWORD_LENGTH = 8
# The hasher for 利用者ID passwords; see docs/decisions.md ("Hashing 利用者ID passwords").
NACCS_PASSWORD_HASHER = "naccs_scrypt"  # noqa: S105 (a hasher name, see applications/hashers.py)


def generate_initial_password() -> str:
    """8 characters of A–Z and 0–9 with at least one letter and one digit, from the OS's CSPRNG."""
    alphabet = ALPHABET_LETTERS + ALPHABET_DIGITS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(INITIAL_PASSWORD_LENGTH))
        if any(c in ALPHABET_LETTERS for c in candidate) and any(c in ALPHABET_DIGITS for c in candidate):
            return candidate


def naccs_password_problem(password: str) -> str | None:
    """The NACCS rule: 6–8 characters, upper-case letters and digits only, both present. None when it holds."""
    if not 6 <= len(password) <= 8:
        return _("パスワードは6～8文字で入力してください。")
    if not all(c in ALPHABET_LETTERS or c in ALPHABET_DIGITS for c in password):
        return _("パスワードは英大文字と数字だけで入力してください。")
    if not any(c in ALPHABET_LETTERS for c in password) or not any(c in ALPHABET_DIGITS for c in password):
        return _("パスワードには英大文字と数字を両方含めてください。")
    return None


def hash_naccs_password(password: str) -> str:
    return make_password(password, hasher=NACCS_PASSWORD_HASHER)


def check_naccs_password(password: str, encoded: str) -> bool:
    return bool(encoded) and check_password(password, encoded)
