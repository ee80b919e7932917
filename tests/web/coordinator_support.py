"""Helpers for the coordinator web tests: a small directory, insured people covered today, cases opened
through intake, and posting a lifecycle action's form the way the workspace does (prefixed fields + version)."""

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from portal import calendar
from portal.domain import intake, lifecycle, transfers
from portal.extensions import db
from portal.models import Escort, Expert, Hospital

SH = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def today() -> date:
    return calendar.business_today()


def make_directory() -> SimpleNamespace:
    """Two Beijing hospitals, one US hospital, two Beijing escorts, a Beijing and a US expert."""
    rows = SimpleNamespace(
        bj=Hospital(name="北京协和医院", city="北京", address="东城区帅府园1号"),
        bj2=Hospital(name="北京大学第一医院", city="北京", address="西城区西什库大街8号"),
        us=Hospital(name="MD Anderson Cancer Center", city="休斯敦", country="美国", overseas=True, level=None),
        zhou=Escort(name="周丽", phone="13800010001", city="北京"),
        sun=Escort(name="孙强", phone="13800010002", city="北京"),
        expert=Expert(name="刘振华", title="主任医师", specialty="肿瘤内科", city="北京", country="中国",
                      hospital_name="中国医学科学院肿瘤医院", hospital_grade="三甲"),
        us_expert=Expert(name="Dr. Emily Carter", city="休斯敦", country="美国", hospital_name="MD Anderson"),
    )
    db.session.add_all(vars(rows).values())
    db.session.commit()
    return rows


def covered_insured(make_policy, **kw):
    """An insured person whose policy covers today, waiting period long over."""
    return make_policy(start=today() - timedelta(days=200), end=today() + timedelta(days=165), waiting_days=0, **kw)


def request_data(line_code: str, directory, **extra) -> dict:
    """A request that passes every eligibility rule today."""
    data = {"illness": "恶性肿瘤——重度", "first_diagnosis_date": (today() - timedelta(days=10)).isoformat()}
    if line_code in ("green_outpatient", "green_inpatient", "domestic_escort"):
        data.update(city="北京", hospital_id=directory.bj.id, department="肿瘤内科")
    elif line_code.startswith("overseas"):
        data.update(country="美国", hospital_id=directory.us.id)
    return {**data, **extra}


def open_case(insured, line_code: str, directory, *, actor=None, **extra):
    """A case submitted through intake now (as the insured's own request when no actor is given)."""
    case = intake.submit_request(insured=insured, line_code=line_code, actor=actor, channel="ys_hotline",
                                 data=request_data(line_code, directory, **extra))
    assert case.status == "submitted", case.eligibility
    db.session.commit()
    return case


def advance(case, actor, *steps) -> None:
    """Run lifecycle steps directly (test set-up), each (action, fields), just the action, or a set-up function
    called as step(case, actor) — e.g. helpers.accept_required_documents before materials_complete."""
    for step in steps:
        if callable(step):
            step(case, actor)
            continue
        action, fields = (step, {}) if isinstance(step, str) else step
        lifecycle.perform(case, action, actor=actor, **fields)
    db.session.commit()


def consent_abroad(hospital):
    """A set-up step for `advance`: the insured's verbal consent (recorded by `actor`) to send to `hospital`."""
    return lambda case, actor: transfers.give(case, hospital_id=hospital.id, actor=actor, channel="hotline")


def action_data(case, code: str, **fields) -> dict:
    """The posted body of an action form: prefixed field names and the version the user saw."""
    data = {f"{code}-version": str(case.version)}
    for name, value in fields.items():
        if isinstance(value, datetime):
            value = value.astimezone(SH).strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = (io.BytesIO(value), f"{name}.pdf")
        data[f"{code}-{name}"] = value
    return data


def act(client, case, code: str, *, htmx: bool = False, **fields):
    """POST one action through the generic endpoint."""
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/staff/cases/{case.id}/actions/{code}", data=action_data(case, code, **fields),
                       headers=headers, content_type="multipart/form-data")


def later(hours: float = 2) -> datetime:
    """A wall-clock time a little in the future (bookings must be in the future)."""
    return (datetime.now(SH) + timedelta(hours=hours)).replace(second=0, microsecond=0)
