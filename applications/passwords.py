"""Passwords of issued 利用者IDs (NACCS rules).

The initial password is generated here with `secrets`; the NACCS password rule (used again by the UTB gateway's
password change) is `naccs_password_problem`. How long an initial password may be shown again is
`initial_password_showable` (SPEC §10).
"""

import datetime
import secrets
import string

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils.translation import gettext as _

ALPHABET_LETTERS = string.ascii_uppercase
ALPHABET_DIGITS = string.digits
# Initial passwords are read off a printed notice and typed in: no letter or digit that looks like another
# (O and 0, I and 1). 24 letters and 8 digits still give 32^8 ≈ 1.1 × 10^12 passwords.
LOOK_ALIKES = frozenset("O0I1")
INITIAL_LETTERS = "".join(c for c in ALPHABET_LETTERS if c not in LOOK_ALIKES)
INITIAL_DIGITS = "".join(c for c in ALPHABET_DIGITS if c not in LOOK_ALIKES)
INITIAL_PASSWORD_LENGTH = 8
# The hasher for 利用者ID passwords; see docs/decisions.md ("Hashing 利用者ID passwords").
NACCS_PASSWORD_HASHER = "naccs_scrypt"  # noqa: S105 (a hasher name, see applications/hashers.py)


def generate_initial_password() -> str:
    """8 characters of A–Z and 0–9 without look-alikes, at least one letter and one digit (the NACCS rule), from
    the OS's CSPRNG."""
    alphabet = INITIAL_LETTERS + INITIAL_DIGITS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(INITIAL_PASSWORD_LENGTH))
        if any(c in INITIAL_LETTERS for c in candidate) and any(c in INITIAL_DIGITS for c in candidate):
            return candidate


def initial_password_retention_ends(issued_at: datetime.datetime) -> datetime.datetime:
    return issued_at + datetime.timedelta(days=settings.NSS_INITIAL_PASSWORD_RETENTION_DAYS)


def initial_password_showable(
    *, issued_at: datetime.datetime, password_changed_at: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """The ID notice shows an initial password only until the ID's password is changed, and never after the
    retention period (NSS_INITIAL_PASSWORD_RETENTION_DAYS); its ciphertext is destroyed then."""
    return password_changed_at is None and now < initial_password_retention_ends(issued_at)


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
