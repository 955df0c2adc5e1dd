"""Tests of the UTB gateway (SPEC §6). The helpers here build ready-to-use 利用者IDs and fixed instants."""

import datetime

from applications import clock, passwords
from tests.factories import ContractFactory, NaccsUserIdFactory

JST = clock.JST
READY_PASSWORD = "READY123"
# FROZEN_AT of tests/factories.py: Monday 2026-11-16 10:00 JST, inside UTB hours.
MONDAY_10 = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
SATURDAY_10 = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=JST)
CHANGED_AT = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=JST)


def ready_id(contract=None, *, password=READY_PASSWORD, **kwargs):
    """A 利用者ID that works at once: started, not revoked, its password already changed (like the demo IDs)."""
    kwargs.setdefault("password_changed_at", CHANGED_AT)
    return NaccsUserIdFactory(
        contract=contract or ContractFactory(),
        password_hash=passwords.hash_naccs_password(password),
        **kwargs,
    )


def temporary_id(contract=None, *, password="TEMP0001", **kwargs):  # noqa: S107 - a test password
    """A freshly issued 利用者ID: its temporary password not yet changed."""
    return ready_id(contract, password=password, password_changed_at=None, **kwargs)
