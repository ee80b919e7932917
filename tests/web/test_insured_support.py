"""Fixtures shared by the insured-portal tests (imported by name; this module holds no tests).

Policies are dated around the real today, so the suite keeps passing as the calendar moves on.
"""

from datetime import timedelta
from io import BytesIO

import pytest
from flask import g
from sqlalchemy import select

from portal import calendar
from portal.domain import intake, lifecycle
from portal.extensions import db
from portal.models import Case, Hospital

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 64


def upload(content: bytes, name: str):
    """A (stream, filename) pair as the Flask test client posts files."""
    return BytesIO(content), name


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


def answers(today, hospital=None, **changes) -> dict:
    """A complete 门诊绿通 request in 上海, as the form posts it."""
    data = {
        "city": "上海", "hospital_id": str(hospital.id) if hospital else "", "department": "肿瘤科",
        "preferred_date": (today + timedelta(days=3)).isoformat(), "alternative_date": "",
        "diagnosis": "肺腺癌", "first_diagnosis_date": (today - timedelta(days=30)).isoformat(),
        "illness": "恶性肿瘤——重度", "notes": "",
    }
    data.update(changes)
    return data


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


def fresh_request() -> None:
    """Make the next test request start like a real one.

    The `app` fixture keeps one app context for the whole test, so `g` (where Flask-Login caches the
    user) and the scoped session outlive each request; drop both.
    """
    g.pop("_login_user", None)
    db.session.remove()


def reload(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.id == case_id))
