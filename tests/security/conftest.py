"""Fixtures of the security suite: the shared world of two insured people, staff and an auditor."""

import pytest
from security_world import build_world


@pytest.fixture
def world(make_policy, product):
    return build_world(make_policy, product)
