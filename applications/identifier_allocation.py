"""Allocating 識別番号 at approval (SPEC §4): the desired one when free, otherwise the first free one in a fixed
order that never uses the letters O and I (they read as 0 and 1 on a licence card or a phone call)."""

import itertools
import string

from django.utils.translation import gettext as _

from .exceptions import DomainError

ALLOCATION_ALPHABET = "".join(c for c in string.ascii_uppercase if c not in "OI") + string.digits


def allocation_order():
    """A00-style order: a letter first (so an allocated ID never looks like a number), then letters/digits."""
    letters = [c for c in ALLOCATION_ALPHABET if c.isalpha()]
    for first, second, third in itertools.product(letters, ALLOCATION_ALPHABET, ALLOCATION_ALPHABET):
        yield first + second + third


def pick_identifiers(desired: list[str], taken: set[str]) -> list[str]:
    """One identifier per asked ID, in order: the desired one when it is free and not picked already in this
    batch, else the next free one of `allocation_order()`. `taken` is every identifier the contract holds.

    When the contract holds every identifier of the order (24 × 34 × 34 = 27,744), the approval is refused with
    a DomainError: nothing is issued, and the staff member is told why instead of seeing a server error."""
    used = set(taken)
    result: list[str | None] = []
    for wish in desired:
        if wish and wish not in used:
            used.add(wish)
            result.append(wish)
        else:
            result.append(None)
    candidates = (candidate for candidate in allocation_order() if candidate not in used)
    for index, picked in enumerate(result):
        if picked is None:
            try:
                candidate = next(candidates)
            except StopIteration:
                raise DomainError(
                    _(
                        "この利用者コードで払い出せる識別番号が残っていないため、承認できません。"
                        "システム管理者に連絡してください。"
                    ),
                    code="identifiers_exhausted",
                ) from None
            used.add(candidate)
            result[index] = candidate
    return result  # type: ignore[return-value]
