"""Fixtures of the UTB gateway tests: an office (利用者コード 1ANAC) and a 通関士ID of it that can log in at once."""

import pytest

from tests.factories import ContractFactory
from tests.utb_gateway import ready_id


@pytest.fixture
def office():
    return ContractFactory(user_code="1ANAC")


@pytest.fixture
def broker(office):
    return ready_id(office, identifier="A0A")
