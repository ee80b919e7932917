"""Plain helpers of the insured-portal tests: file bytes of each accepted type, request answers, request reset."""

from datetime import timedelta
from io import BytesIO

from flask import g
from helpers import JPEG, PDF  # noqa: F401  (re-exported with the other file types)
from sqlalchemy import select

from portal.extensions import db
from portal.models import Case

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 64


def upload(content: bytes, name: str):
    """A (stream, filename) pair as the Flask test client posts files."""
    return BytesIO(content), name


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
