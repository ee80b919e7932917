"""Helpers for lifecycle and SLA tests: Shanghai wall-clock times, a small directory, cases opened by intake."""

import itertools
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from portal.domain import intake, lifecycle, transfers
from portal.extensions import db
from portal.models import Document, Escort, Expert, Hospital

SH = ZoneInfo("Asia/Shanghai")
_names = itertools.count(1)


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0) -> datetime:
    """An aware Asia/Shanghai wall-clock time."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def make_directory():
    """Hospitals, escorts and experts the cases below use."""
    rows = SimpleNamespace(
        bj=Hospital(name="北京协和医院", city="北京", address="东城区帅府园1号"),
        bj2=Hospital(name="北京大学第一医院", city="北京", address="西城区西什库大街8号"),
        sh=Hospital(name="复旦大学附属中山医院", city="上海", address="徐汇区枫林路180号"),
        closed=Hospital(name="已停用医院", city="北京", active=False),
        us=Hospital(name="MD Anderson Cancer Center", city="休斯敦", country="美国", overseas=True, level=None),
        de=Hospital(name="Universitätsklinikum Heidelberg", city="海德堡", country="德国", overseas=True, level=None),
        zhou=Escort(name="周丽", phone="13800010001", city="北京"),
        sun=Escort(name="孙强", phone="13800010002", city="北京"),
        wu=Escort(name="吴敏", phone="13800010003", city="上海"),
        expert=Expert(name="刘振华", title="主任医师", specialty="肿瘤内科", city="北京", country="中国",
                      hospital_name="中国医学科学院肿瘤医院", hospital_grade="三甲"),
        us_expert=Expert(name="Dr. Emily Carter", city="休斯敦", country="美国", hospital_name="MD Anderson"),
    )
    db.session.add_all(vars(rows).values())
    db.session.commit()
    return rows


def make_staff(make_user):
    """One coordinator and one supervisor."""
    return SimpleNamespace(coord=make_user("coordinator", display_name="陈晓"),
                           boss=make_user("supervisor", display_name="何静"))


def insured_for(make_policy, on: date, **kw):
    """An insured person whose policy year (waiting period over) contains `on`."""
    return make_policy(start=on - timedelta(days=120), end=on + timedelta(days=244), waiting_days=0, **kw)


def request_data(line_code: str, directory, on: date, **extra) -> dict:
    """A request that passes every eligibility rule for the line."""
    data = {"illness": "恶性肿瘤——重度", "first_diagnosis_date": (on - timedelta(days=10)).isoformat()}
    if line_code in ("green_outpatient", "green_inpatient", "domestic_escort"):
        data.update(city="北京", hospital_id=directory.bj.id, department="肿瘤内科")
    elif line_code.startswith("overseas"):
        data.update(country="美国", hospital_id=directory.us.id)
    return {**data, **extra}


def open_case(make_policy, directory, line_code: str, when: datetime, actor, *, insured=None, **extra):
    """A case submitted through intake at `when` (Shanghai time)."""
    insured = insured or insured_for(make_policy, when.date())
    case = intake.submit_request(insured=insured, line_code=line_code, actor=actor, channel="ys_hotline",
                                 data=request_data(line_code, directory, when.date(), **extra), now=when)
    assert case.status == "submitted", case.eligibility
    db.session.commit()
    return case


def document(case, kind: str, name: str | None = None) -> Document:
    """A stored document row of the case (the upload itself is tested with documents.py)."""
    n = next(_names)
    row = Document(case_id=case.id, kind=kind, original_name=name or f"{kind}-{n}.pdf",
                   stored_name=f"stored-{kind}-{n}-{case.id}.pdf", content_type="application/pdf", size=1000,
                   sha256="0" * 64)
    db.session.add(row)
    db.session.flush()
    return row


def walk(case, actor, steps):
    """Perform (action, when, fields) steps in order, committing each like a view would. The step
    ("consent_abroad", when, {"hospital_id": ...}) records the insured's verbal cross-border consent (SPEC §7)."""
    for action, when, fields in steps:
        if action == "consent_abroad":
            transfers.give(case, actor=actor, channel="hotline", now=when, **fields)
        else:
            lifecycle.perform(case, action, actor=actor, now=when, **fields)
        db.session.commit()
    return case
