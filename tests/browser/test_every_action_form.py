"""Every coordinator and supervisor action form is submitted at least once in Chromium at 1366×900 (issue 14):
the line journeys (test_coordinator_journey.py) submit the steps of each line; this file submits the
corrections, the exits and the side records, and checks that together they cover lines.ACTIONS."""

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import test_coordinator_journey as journey
from helpers import accept_required_documents
from playwright.sync_api import expect
from sqlalchemy import select, update

from portal import calendar
from portal.domain import intake, lifecycle, lines, transfers
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import (
    Appointment,
    Bill,
    Case,
    Escort,
    EscortAssignment,
    EscortHourLog,
    Hospital,
    OutcomeCorrection,
    User,
    utcnow,
)

#: the action codes the line journeys submit through their forms (step() in test_coordinator_journey.py)
BY_THE_JOURNEYS = {
    "verify", "accept", "confirm_hospital", "book_appointment", "record_visit", "record_escort_request",
    "assign_escort", "record_escort_outcome", "launch_decision", "materials_complete", "assign_expert",
    "issue_report", "history_translated", "choose_provider", "report_received", "report_translated",
    "hospital_accepted", "visa_applied", "visa_granted", "visa_refused", "local_escort_arranged",
    "treatment_arranged", "departed", "log_escort_hours", "add_bill", "deliver", "returned", "note",
}
#: what this file submits
HERE = {"reschedule_appointment", "reschedule_escort", "correct_outcome", "imaging_transferred", "update_bill",
        "void_bill",
        "void_escort_hours", "request_documents", "documents_received", "assign", "terminate"}


def test_the_browser_tests_submit_every_staff_action_of_the_table():
    staff_actions = {code for code, spec in lines.ACTIONS.items() if set(spec.roles) & set(lines.STAFF)}
    assert staff_actions - BY_THE_JOURNEYS - HERE == set()
    source = Path(journey.__file__).read_text(encoding="utf-8")
    assert all(f'step(page, "{code}"' in source for code in BY_THE_JOURNEYS - {"verify", "accept"})


@pytest.fixture
def world(app, make_policy, desk_page, browser_login):
    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    page = desk_page
    page.set_viewport_size({"width": 1366, "height": 900})
    return page, lambda name: make_policy(name=name, start=today - timedelta(days=200),
                                          end=today + timedelta(days=165), waiting_days=0)


def _coord():
    return db.session.scalar(select(User).where(User.username == "coord1"))


def _open(insured, line_code, **data):
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "北京协和医院"))
    request = {"illness": "恶性肿瘤——重度", "first_diagnosis_date": journey._iso(-10)}
    if line_code.startswith("overseas"):
        request["country"] = "美国"
    else:
        request.update(city="北京", hospital_id=hospital.id)
    case = intake.submit_request(insured=insured, line_code=line_code, actor=_coord(), channel="ys_hotline",
                                 data={**request, **data})
    db.session.commit()
    return case, hospital


def _run(case, *steps):
    for action, fields in steps:
        lifecycle.perform(case, action, actor=_coord(), **fields)
    db.session.commit()


def _at(days: int, hour: int) -> str:
    return datetime.combine(calendar.business_today() + timedelta(days=days), time(hour)).strftime("%Y-%m-%dT%H:%M")


def test_corrections_and_exits_on_the_green_channel_and_the_escort(world, browser_login, shot, axe_violations):
    page, insured = world
    browser_login(page, "coord1")
    case, hospital = _open(insured("甲一"), "green_outpatient")
    soon = utcnow() + timedelta(days=2)
    _run(case, ("verify", {}), ("accept", {}), ("confirm_hospital", {"hospital_id": hospital.id}),
         ("book_appointment", {"hospital_id": hospital.id, "department": "肿瘤内科", "scheduled_at": soon}))
    page.goto(f"/staff/cases/{case.id}")
    journey.step(page, "reschedule_appointment", "改约就诊时间",
                 fill={"新的就诊日期与时间": _at(5, 14), "改约原因（客户可见）": "客户临时出差"})
    expect(page.locator(f"#timeline-{case.id}")).to_contain_text("改约就诊时间")
    expect(page.locator(f"#appointment-{case.id}")).to_contain_text("14:00")
    shot(page, "01-rescheduled")
    assert axe_violations(page) == []

    other, _ = _open(insured("甲二"), "green_outpatient")
    _run(other, ("verify", {}))
    page.goto(f"/staff/cases/{other.id}")
    journey.step(page, "request_documents", "要求补充资料", check=["门诊病历"], fill={"原因（客户可见）": "请补充病历"})
    expect(page.locator("#clock-arrange")).to_contain_text("已暂停")
    journey.step(page, "documents_received", "资料已补齐")
    expect(page.locator("#clock-arrange")).not_to_contain_text("已暂停")
    page.get_by_text("终止服务…").click()  # the danger zone opens on purpose
    journey.step(page, "terminate", "终止服务", select={"终止原因": "insured_withdrew"},
                 fill={"说明（选填）": "客户改去外地"})
    expect(page.locator(f"#case-{other.id} .case-title")).to_contain_text("已终止")

    escort_case, _ = _open(insured("甲三"), "domestic_escort")
    zhou = db.session.scalar(select(Escort).where(Escort.phone == "13800010001"))
    window = {"starts_at": utcnow() + timedelta(days=2), "ends_at": utcnow() + timedelta(days=2, hours=3)}
    _run(escort_case, ("verify", {}), ("accept", {}),
         ("record_escort_request", {"hospital_id": hospital.id, **window}), ("assign_escort", {"escort_id": zhou.id}))
    page.goto(f"/staff/cases/{escort_case.id}")
    journey.step(page, "reschedule_escort", "改约陪诊时间",
                 fill={"新的陪诊开始时间": _at(6, 8), "新的陪诊结束时间": _at(6, 11),
                       "改约原因（客户可见）": "检查改期"})
    expect(page.locator(f"#timeline-{escort_case.id}")).to_contain_text("改约陪诊时间")
    shot(page, "02-escort-rescheduled")


def test_bills_and_escort_hours_are_updated_and_voided_and_a_supervisor_assigns(world, browser_login, shot,
                                                                                axe_violations, make_user):
    page, insured = world
    case, _ = _open(insured("乙一"), "overseas_treatment")
    us = db.session.scalar(select(Hospital).where(Hospital.name == "MD Anderson Cancer Center"))
    today = calendar.business_today()
    _run(case, ("verify", {}), ("accept", {}), ("launch_decision", {"launch": True}))
    accept_required_documents(case, _coord())
    _run(case, ("materials_complete", {}), ("history_translated", {}))
    transfers.give(case, hospital_id=us.id, actor=_coord(), channel="hotline")
    _run(case, ("hospital_accepted", {"hospital_id": us.id}), ("visa_applied", {"applied_on": today}),
         ("visa_granted", {"decided_on": today}), ("local_escort_arranged", {"escort_name": "Linda Wang"}),
         ("treatment_arranged", {}), ("departed", {"on": today}),
         ("add_bill", {"hospital_name": "MD Anderson", "bill_date": today, "currency": "JPY",
                       "amount": "1200000.00", "status": "received"}),
         ("log_escort_hours", {"day": today, "hours": "30", "escort_name": "Linda Wang"}))
    bill = str(db.session.scalar(select(Bill.id).where(Bill.case_id == case.id)))
    hours = str(db.session.scalar(select(EscortHourLog.id).where(EscortHourLog.case_id == case.id)))
    browser_login(page, "coord1")
    page.goto(f"/staff/cases/{case.id}")
    journey.step(page, "update_bill", "更新账单状态", select={"账单": bill, "账单状态": "verified"})
    journey.step(page, "void_bill", "作废账单（录入有误）", select={"账单": bill}, fill={"作废原因": "金额多录一个零"})
    expect(page.locator(f"#bill-{bill}")).to_contain_text("已作废：金额多录一个零")
    journey.step(page, "void_escort_hours", "作废陪诊时长记录", select={"陪诊时长记录": hours},
                 fill={"作废原因": "应为 3 小时"})
    expect(page.locator(f"#hours-{hours}")).to_contain_text("已作废")
    shot(page, "03-bill-and-hours-voided")
    assert axe_violations(page) == []

    second, _ = _open(insured("乙二"), "overseas_second_opinion")
    _run(second, ("verify", {}), ("launch_decision", {"launch": True}))
    accept_required_documents(second, _coord())
    _run(second, ("materials_complete", {}), ("history_translated", {}))
    page.goto(f"/staff/cases/{second.id}")
    journey.step(page, "imaging_transferred", "影像传输完成")
    expect(page.locator(f"#timeline-{second.id}")).to_contain_text("影像传输完成")

    page.get_by_role("button", name="退出").click()
    browser_login(page, "supervisor")
    page.goto(f"/staff/cases/{second.id}")
    coord2 = str(db.session.scalar(select(User.id).where(User.username == "coord2")))
    journey.step(page, "assign", "分派案件", select={"负责人": coord2})
    expect(page.locator(f"#timeline-{second.id}")).to_contain_text("分派给刘洋")
    db.session.expire_all()  # read what the server committed
    assert db.session.get(Case, second.id).assignee_id == int(coord2)
    shot(page, "04-assigned-by-the-supervisor")


def _in_the_past(model, case):
    """Move the case's booking an hour into the past (a visit is recorded only once its time has come)."""
    column = model.scheduled_at if model is Appointment else model.starts_at
    db.session.execute(update(model).where(model.case_id == case.id).values(
        {column.key: utcnow() - timedelta(hours=4), **({"ends_at": utcnow() - timedelta(hours=1)}
                                                         if model is EscortAssignment else {})}))
    db.session.commit()


def test_a_recorded_visit_and_an_escort_outcome_are_corrected(world, browser_login, shot, axe_violations):
    page, insured = world
    browser_login(page, "coord1")
    case, hospital = _open(insured("丙一"), "green_outpatient")
    _run(case, ("verify", {}), ("accept", {}), ("confirm_hospital", {"hospital_id": hospital.id}),
         ("book_appointment", {"hospital_id": hospital.id, "department": "肿瘤内科",
                               "scheduled_at": utcnow() + timedelta(days=1)}))
    _in_the_past(Appointment, case)
    _run(case, ("record_visit", {"outcome": "visited"}))
    page.goto(f"/staff/cases/{case.id}")
    form = page.locator("#action-correct-outcome")
    form.get_by_label("未按时就医（视为完成）", exact=True).check()
    journey.refused(page, "correct_outcome", "更正就医结果", "served_on", "客户未到时不填写实际就诊日期",
                    fill={"实际就诊日期（与预约日期不同时填写）": calendar.business_today().isoformat(),
                          "更正原因（客户可见）": "医院回复客户未到诊"})
    shot(page, "05-correction-refused-at-its-field")
    form.get_by_label("实际就诊日期（与预约日期不同时填写）", exact=True).fill("")
    journey.step(page, "correct_outcome", "更正就医结果", check=["未按时就医（视为完成）"],
                 fill={"更正原因（客户可见）": "医院回复客户未到诊"})
    expect(page.locator(f"#appointment-{case.id}")).to_contain_text("未按时就医")
    expect(page.locator(f"#timeline-{case.id}")).to_contain_text("更正就医结果：已按时就医 → 未按时就医")
    shot(page, "06-visit-corrected")
    assert axe_violations(page) == []

    escort_case, _ = _open(insured("丙二"), "domestic_escort")
    zhou = db.session.scalar(select(Escort).where(Escort.phone == "13800010001"))
    window = {"starts_at": utcnow() + timedelta(days=3), "ends_at": utcnow() + timedelta(days=3, hours=3)}
    _run(escort_case, ("verify", {}), ("accept", {}),
         ("record_escort_request", {"hospital_id": hospital.id, **window}), ("assign_escort", {"escort_id": zhou.id}))
    _in_the_past(EscortAssignment, escort_case)
    _run(escort_case, ("record_escort_outcome", {"outcome": "no_show"}))
    page.goto(f"/staff/cases/{escort_case.id}")
    journey.step(page, "correct_outcome", "更正就医结果", check=["已完成陪诊"],
                 fill={"更正原因（客户可见）": "陪诊员补报：已在门口会合"})
    expect(page.locator(f"#escort-roster-{escort_case.id}")).to_contain_text("已陪诊")
    db.session.expire_all()
    assert [r.to_outcome for r in db.session.scalars(select(OutcomeCorrection).order_by(OutcomeCorrection.id))] \
        == ["no_show", "escorted"]
