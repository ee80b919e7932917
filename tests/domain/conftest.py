"""Fixtures of the domain tests: the directory, the staff and cases opened through intake (tests/domain/casework.py)."""

import pytest
from casework import make_directory, make_staff, open_case


@pytest.fixture
def directory(app, product):
    return make_directory()


@pytest.fixture
def staff(make_user):
    return make_staff(make_user)


@pytest.fixture
def open_(make_policy, directory, staff):
    """open_(line, when, **extra) → a case submitted through intake by the coordinator."""
    return lambda line, when, **extra: open_case(make_policy, directory, line, when, staff.coord, **extra)
