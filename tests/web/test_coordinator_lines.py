"""Every service line carried to its end through the one generic action endpoint, as the workspace posts it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from coordinator_support import act, advance, consent_abroad, later, make_directory, open_case, today
from coordinator_support import covered_insured as insured_for
from helpers import PDF, accept_required_documents
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Appointment,
    Bill,
    Document,
    EscortAssignment,
    EscortHourLog,
    Notification,
    utcnow,
)


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    return directory, make_user("coordinator", display_name="陈晓"), make_policy


def _ok(response):
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def _started(case, coord, client):
    _ok(act(client, case, "verify"))
    _ok(act(client, case, "accept"))


def _materials_complete(case, coord, client):
    """The required documents uploaded and accepted (set-up), then 确认资料齐全 through the workspace."""
    accept_required_documents(case, coord)
    db.session.commit()
    _ok(act(client, case, "materials_complete"))


def test_green_outpatient_is_booked_then_visited_and_completed(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    _started(case, coord, client)
    _ok(act(client, case, "confirm_hospital", hospital_id=directory.bj.id, department="肿瘤内科"))
    _ok(act(client, case, "book_appointment", hospital_id=directory.bj.id, department="肿瘤内科",
            scheduled_at=later(3)))
    assert case.milestone == "arranged" and case.clocks[0].outcome == "met"
    assert db.session.scalar(select(Notification).where(Notification.title == "就医预约已安排")) is not None
    appointment = db.session.scalar(select(Appointment).where(Appointment.case_id == case.id))
    appointment.scheduled_at = utcnow() - timedelta(hours=1)  # the day of the visit has come
    db.session.commit()
    _ok(act(client, case, "record_visit", outcome="visited"))
    assert (case.status, case.milestone) == ("completed", "visited")


def test_green_inpatient_no_show_counts_as_completed(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "green_inpatient", directory)
    _started(case, coord, client)
    _ok(act(client, case, "confirm_hospital", hospital_id=directory.bj.id, department="心内科",
            admission_slip_date=today()))
    assert case.clocks[0].state == "running"
    _ok(act(client, case, "book_appointment", hospital_id=directory.bj.id, department="心内科",
            scheduled_at=later(5)))
    db.session.scalar(select(Appointment).where(Appointment.case_id == case.id)).scheduled_at = \
        utcnow() - timedelta(hours=1)
    db.session.commit()
    _ok(act(client, case, "record_visit", outcome="no_show"))
    assert (case.status, case.milestone) == ("completed", "no_show")


def test_escort_is_assigned_from_the_roster_and_escorted(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "domestic_escort", directory)
    _started(case, coord, client)
    starts = later(24)
    _ok(act(client, case, "record_escort_request", hospital_id=directory.bj.id, starts_at=starts,
            ends_at=starts + timedelta(hours=3)))
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "周丽" in page and "空闲" in page
    _ok(act(client, case, "assign_escort", escort_id=directory.zhou.id))
    note = db.session.scalar(select(Notification).where(Notification.title == "陪诊已安排"))
    assert "周丽" in note.body and "13800010001" in note.body  # contact details reach the insured
    db.session.scalar(select(EscortAssignment).where(EscortAssignment.case_id == case.id)).starts_at = \
        utcnow() - timedelta(hours=1)
    db.session.commit()
    _ok(act(client, case, "record_escort_outcome", outcome="escorted"))
    assert case.status == "completed"


def test_escort_cannot_be_double_booked(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    starts = later(48)
    first = open_case(insured_for(make_policy), "domestic_escort", directory)
    second = open_case(insured_for(make_policy), "domestic_escort", directory)
    for case, offset in ((first, 0), (second, 1)):
        window = {"starts_at": starts + timedelta(hours=offset), "ends_at": starts + timedelta(hours=offset + 3)}
        advance(case, coord, "verify", "accept", ("record_escort_request", {"hospital_id": directory.bj.id, **window}))
    _ok(act(client, first, "assign_escort", escort_id=directory.zhou.id))

    page = client.get(f"/staff/cases/{second.id}").get_data(as_text=True)
    assert "周丽（该时段已有安排）" in page and "孙强（空闲）" in page
    version = second.version
    response = act(client, second, "assign_escort", escort_id=directory.zhou.id)
    assert response.status_code == 422
    assert "该陪诊员在该时段已有其他安排" in response.get_data(as_text=True)
    assert second.milestone == "request_recorded" and second.version == version
    assert db.session.scalar(select(EscortAssignment).where(EscortAssignment.case_id == second.id)) is None
    _ok(act(client, second, "assign_escort", escort_id=directory.sun.id))


def test_domestic_second_opinion_report_is_uploaded_and_delivered(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "domestic_second_opinion", directory)
    _started(case, coord, client)
    _materials_complete(case, coord, client)
    assert case.clocks[0].state == "running"
    _ok(act(client, case, "assign_expert", expert_id=directory.expert.id))
    _ok(act(client, case, "issue_report", upload=PDF))
    report = db.session.scalar(select(Document).where(Document.case_id == case.id, Document.kind == "report"))
    assert report.content_type == "application/pdf"
    _ok(act(client, case, "deliver", document_id=report.id))
    assert case.status == "completed" and report.delivered_at is not None


def test_report_upload_must_be_a_pdf(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "domestic_second_opinion", directory)
    advance(case, coord, "verify", "accept", accept_required_documents, "materials_complete",
            ("assign_expert", {"expert_id": directory.expert.id}))
    response = act(client, case, "issue_report", upload=b"\x89PNG\r\n\x1a\n" + b"0" * 40)
    assert response.status_code == 422
    assert "报告须为 PDF 文件" in response.get_data(as_text=True)
    assert case.milestone == "expert_assigned"


def test_overseas_second_opinion_runs_from_launch_to_delivery(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "overseas_second_opinion", directory)
    _ok(act(client, case, "verify"))
    _ok(act(client, case, "launch_decision", launch="yes", note="资料齐全后启动"))
    decision = next(c for c in case.clocks if c.kind == "decision")
    assert case.status == "in_service" and decision.outcome == "met"
    _materials_complete(case, coord, client)
    for step in ("history_translated", "imaging_transferred"):
        _ok(act(client, case, step))
    advance(case, coord, consent_abroad(directory.us))
    _ok(act(client, case, "choose_provider", country="美国", hospital_id=directory.us.id,
            expert_id=directory.us_expert.id))
    _ok(act(client, case, "report_received", upload=PDF))
    _ok(act(client, case, "report_translated", upload=PDF))
    _ok(act(client, case, "deliver"))
    assert case.status == "completed"
    kinds = {d.kind: d.delivered_at for d in case.documents}
    assert kinds["report_translation"] and kinds["report"]


def _overseas_treatment_until_visa(client, case, directory, coord):
    _ok(act(client, case, "verify"))
    _ok(act(client, case, "launch_decision", launch="yes"))
    _materials_complete(case, coord, client)
    _ok(act(client, case, "history_translated"))
    advance(case, coord, consent_abroad(directory.us))
    _ok(act(client, case, "hospital_accepted", hospital_id=directory.us.id))
    _ok(act(client, case, "visa_applied", applied_on=today()))


def test_overseas_treatment_runs_to_delivery_with_hours_and_bills(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "overseas_treatment", directory)
    _overseas_treatment_until_visa(client, case, directory, coord)
    _ok(act(client, case, "visa_granted", decided_on=today()))
    _ok(act(client, case, "local_escort_arranged", escort_name="Anna Li"))
    _ok(act(client, case, "treatment_arranged"))
    _ok(act(client, case, "departed", on=today()))
    _ok(act(client, case, "log_escort_hours", day=today(), hours="8", escort_name="Anna Li"))
    _ok(act(client, case, "add_bill", hospital_name="MD Anderson", bill_date=today(), currency="USD",
            amount="12000.50", status="received"))
    _ok(act(client, case, "add_bill", hospital_name="MD Anderson", bill_date=today(), currency="USD",
            amount="1000", status="received"))
    _ok(act(client, case, "add_bill", hospital_name="Pharmacy", bill_date=today(), currency="EUR",
            amount="99.9", status="verified"))
    bill = db.session.scalar(select(Bill).where(Bill.case_id == case.id).order_by(Bill.id))
    _ok(act(client, case, "update_bill", bill_id=bill.id, status="settled"))
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="bill-total-usd">13,000.50<' in page and 'id="bill-total-eur">99.90<' in page
    assert "还可登记 <strong id=\"hours-left\">32</strong> 小时" in page
    _ok(act(client, case, "returned", on=today()))
    _ok(act(client, case, "deliver", upload=PDF, bills_upload=PDF))
    assert case.status == "completed"
    assert {d.kind for d in case.documents if d.delivered_at} == {"service_report", "bills"}


def test_escort_hours_beyond_40_in_total_are_refused(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "overseas_treatment", directory)
    advance(case, coord, "verify", ("launch_decision", {"launch": True}), accept_required_documents,
            "materials_complete", "history_translated",
            consent_abroad(directory.us), ("hospital_accepted", {"hospital_id": directory.us.id}),
            ("visa_applied", {"applied_on": today()}),
            ("visa_granted", {"decided_on": today()}), ("local_escort_arranged", {"escort_name": "Anna Li"}),
            "treatment_arranged", ("departed", {"on": today()}))
    _ok(act(client, case, "log_escort_hours", day=today(), hours="24", escort_name="Anna Li"))
    _ok(act(client, case, "log_escort_hours", day=today(), hours="15.5", escort_name="Anna Li"))
    response = act(client, case, "log_escort_hours", day=today(), hours="1", escort_name="Anna Li")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "当地陪诊累计不得超过 40 小时" in body and "还可登记 0.5 小时" in body
    total = sum(h.hours for h in db.session.scalars(select(EscortHourLog).where(EscortHourLog.case_id == case.id)))
    assert total == Decimal("39.5")
    _ok(act(client, case, "log_escort_hours", day=today(), hours="0.5", escort_name="Anna Li"))


def test_visa_refusal_terminates_the_overseas_treatment_and_releases_the_unit(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    insured = insured_for(make_policy)
    case = open_case(insured, "overseas_treatment", directory)
    _overseas_treatment_until_visa(client, case, directory, coord)
    _ok(act(client, case, "visa_refused", decided_on=today()))
    assert (case.status, case.termination_reason) == ("terminated", "visa_refused")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "医疗签证被拒" in page
    assert re.search(r'id="balance-overseas-treatment"[^>]*>\s*<td>海外就医</td><td><strong>1</strong>/1', page)


def test_any_line_can_be_terminated_with_a_reason_code(world, login_as):
    directory, coord, make_policy = world
    client = login_as(coord)
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    response = act(client, case, "terminate", reason="", note="")
    assert response.status_code == 422 and "请选择终止原因" in response.get_data(as_text=True)
    _ok(act(client, case, "terminate", reason="insured_withdrew", note="客户来电撤回"))
    assert (case.status, case.termination_reason) == ("terminated", "insured_withdrew")
