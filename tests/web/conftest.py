"""Fixtures of the web tests (mostly the insured portal); plain helpers are in insured_support.py.

Policies are dated around the real today, so the suite keeps passing as the calendar moves on.
"""

from datetime import timedelta

import pytest

from portal import calendar
from portal.domain import intake, lifecycle
from portal.extensions import db
from portal.models import Hospital


@pytest.fixture
def today():
    return calendar.business_today()


@pytest.fixture
def hospitals(app):
    """Two 上海 hospitals and one 北京 hospital of the cooperating directory."""
    rows = [Hospital(name="复旦大学附属中山医院", city="上海", address="徐汇区枫林路180号"),
            Hospital(name="复旦大学附属华山医院", city="上海", address="静安区乌鲁木齐中路12号"),
            Hospital(name="北京协和医院", city="北京", address="东城区帅府园1号")]
    db.session.add_all(rows)
    db.session.commit()
    return {row.name: row for row in rows}


@pytest.fixture
def insured_user(make_policy, make_user, today):
    """An insured whose policy is in force today and past its 90-day waiting period, with an account."""

    def make(name="王测试", *, email=None, **policy):
        start = today - timedelta(days=200)
        person = make_policy(name=name, start=start, end=start + timedelta(days=364), **policy)
        return make_user("insured", insured=person, display_name=name, email=email)

    return make


@pytest.fixture
def insured(insured_user):
    return insured_user()


@pytest.fixture
def client_of(login_as):
    """A test client logged in as `user`."""
    return login_as


@pytest.fixture
def open_case(hospitals, today):
    """open_case(user, line_code=...) → a case submitted through intake, as the portal would."""

    hospital_id = hospitals["复旦大学附属中山医院"].id

    def make(user, line_code="green_outpatient", **changes):
        data = {"city": "上海", "hospital_id": hospital_id, "department": "肿瘤科",
                "diagnosis": "肺腺癌", "first_diagnosis_date": today - timedelta(days=30),
                "illness": "恶性肿瘤——重度", **changes}
        if line_code.startswith("overseas"):
            data = {**data, "city": None, "hospital_id": None, "country": "美国"}
        case = intake.submit_request(insured=user.insured, line_code=line_code, data=data, actor=user)
        db.session.commit()
        return case

    return make


@pytest.fixture
def staff(make_user):
    return make_user("supervisor", display_name="何静")


@pytest.fixture
def act(staff):
    """act(case, action, **fields): a supervisor moves the case through the lifecycle and commits."""

    def run(case, action, **fields):
        lifecycle.perform(case, action, actor=staff, **fields)
        db.session.commit()
        return case

    return run
