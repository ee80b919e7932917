"""Demo cases with history: 张伟 has used one of his two escort units this policy year (README "Demo logins")."""

from datetime import datetime

from sqlalchemy import select

from ..calendar import BUSINESS_TZ
from ..extensions import db
from ..models import Case, Escort, Hospital, InsuredPerson, Policy, User
from . import consent, intake, lifecycle

DEMO_POLICY_NO = "SD2026000103"


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A fixed 2026 Asia/Shanghai wall-clock time: demo history must not depend on today."""
    return datetime(2026, month, day, hour, minute, tzinfo=BUSINESS_TZ)


def ensure_demo_cases() -> None:
    """Create 张伟's completed escort case through the real intake and lifecycle, unless he has a case already."""
    insured = db.session.scalar(select(InsuredPerson).join(Policy).where(Policy.policy_no == DEMO_POLICY_NO))
    coordinator = db.session.scalar(select(User).where(User.username == "coord1"))
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "北京协和医院", Hospital.overseas.is_(False)))
    escort = db.session.scalar(select(Escort).where(Escort.phone == "13800010001"))
    if None in (insured, coordinator, hospital, escort):
        return  # the directories and logins come first (demo.load_demo_data)
    if db.session.scalar(select(Case.id).where(Case.insured_id == insured.id).limit(1)) is not None:
        return
    # on the call, coord1 read the privacy notice aloud and recorded 张伟's verbal consent (SPEC §7)
    consent.give(insured, actor=coordinator, channel="hotline", now=_at(6, 1, 9, 55))
    case = intake.submit_request(
        insured=insured, line_code="domestic_escort", actor=coordinator, channel="ys_hotline",
        data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-20", "diagnosis": "肺腺癌（术后）",
              "city": "北京", "hospital_id": hospital.id, "department": "胸外科"},
        now=_at(6, 1, 10))
    steps = [
        ("verify", _at(6, 1, 10, 30), {}),
        ("accept", _at(6, 1, 11), {}),
        ("record_escort_request", _at(6, 1, 14),
         {"hospital_id": hospital.id, "starts_at": _at(6, 4, 8, 30), "ends_at": _at(6, 4, 12)}),
        ("assign_escort", _at(6, 2, 9, 30), {"escort_id": escort.id}),
        ("record_escort_outcome", _at(6, 4, 15), {"outcome": "escorted"}),
    ]
    for action, now, fields in steps:
        lifecycle.perform(case, action, actor=coordinator, now=now, **fields)
    db.session.flush()
