"""ユーザーID of a portal account given by the NACCS centre: staff accounts (screen staff-accounts) and the customer
accounts of the contract import (applications/contract_import.py). One rule, one message."""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,29}$"
USERNAME_RE = re.compile(USERNAME_PATTERN)
USERNAME_MAX_LENGTH = 30
USERNAME_MESSAGE = _("ユーザーIDは英小文字・数字・記号（. _ -）の3～30文字で入力してください。")


def normalise_username(raw: str) -> str:
    """Full-width → half-width (NFKC), surrounding spaces dropped, lower case: ＴＡＮＡＫＡ → tanaka."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def is_valid_username(value: str) -> bool:
    return bool(USERNAME_RE.fullmatch(value))
