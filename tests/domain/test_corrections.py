"""Corrections (issue 14 item 3): bookings moved, wrong bills and escort hours voided and entered again — each
audited with its reason, the SLA outcome truthful, dates and amounts checked against the case."""

from datetime import date as D
from decimal import Decimal

import pytest
from casework import at, walk
from helpers import accept_required_documents
from sqlalchemy import select

from portal.domain import lifecycle, transfers
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import Appointment, Bill, CaseEvent, EscortAssignment, EscortHourLog, Notification

DAY1 = at(2026, 6, 1, 9)  # Monday; the arrange clock of 5 working days is due Monday 8 June


def refused(case, action, actor, when, **fields) -> DomainError:
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, action, actor=actor, now=when, **fields)
    db.session.rollback()
    return error.value


BOOKED_AT = at(2026, 6, 3, 10)


def _booked(open_, staff, directory, when=BOOKED_AT):
    case = open_("green_outpatient", DAY1)
    return walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
        ("confirm_hospital", at(2026, 6, 2, 10), {"hospital_id": directory.bj.id}),
        ("book_appointment", when, {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                    "scheduled_at": at(2026, 6, 10, 9)}),
    ])


def test_a_booking_beyond_the_policy_period_is_refused_at_its_field(open_, staff, directory):
    case = open_("green_outpatient", DAY1)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
                             ("confirm_hospital", at(2026, 6, 2, 10), {"hospital_id": directory.bj.id})])
    error = refused(case, "book_appointment", staff.coord, at(2026, 6, 2, 11), hospital_id=directory.bj.id,
                    department="内科", scheduled_at=at(2030, 11, 1, 9))
    assert error.field == "scheduled_at" and "不能晚于保单期满日" in error.message


def test_a_reschedule_moves_the_booking_keeps_the_old_one_and_tells_the_insured(open_, staff, directory):
    case = _booked(open_, staff, directory)
    walk(case, staff.coord, [("reschedule_appointment", at(2026, 6, 4, 10),
                              {"scheduled_at": at(2026, 6, 12, 14), "reason": "客户临时出差"})])
    rows = list(db.session.scalars(select(Appointment).where(Appointment.case_id == case.id).order_by(Appointment.id)))
    assert [r.cancelled_at is None for r in rows] == [False, True]
    assert rows[1].scheduled_at == at(2026, 6, 12, 14) and case.milestone == "arranged"
    event = case.events[-1]
    assert event.action == "reschedule_appointment" and "客户临时出差" in event.summary
    assert db.session.scalar(select(Notification.title).order_by(Notification.id.desc())) == "就诊时间已变更"
    assert case.clocks[0].outcome == "met"  # moved before the deadline: the promise was kept
    lifecycle.perform(case, "record_visit", actor=staff.coord, now=at(2026, 6, 12, 16), outcome="visited")
    assert case.status == "completed"


def test_a_rebooking_after_the_deadline_is_recorded_as_a_breach(open_, staff, directory):
    case = _booked(open_, staff, directory)
    walk(case, staff.coord, [("reschedule_appointment", at(2026, 6, 9, 10),
                              {"scheduled_at": at(2026, 6, 15, 9), "reason": "医院停诊"})])
    clock = case.clocks[0]
    assert (clock.outcome, clock.breached) == ("breached", True)
    assert db.session.scalar(select(CaseEvent.summary).where(CaseEvent.action == "breached")).startswith("改约晚于时限")


def test_an_escort_window_of_fifty_hours_is_refused_and_a_booking_can_be_moved(open_, staff, directory):
    case = open_("domestic_escort", DAY1)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {})])
    error = refused(case, "record_escort_request", staff.coord, at(2026, 6, 1, 12), hospital_id=directory.bj.id,
                    starts_at=at(2026, 6, 4, 8), ends_at=at(2026, 6, 6, 10))
    assert error.field == "ends_at" and "不超过 12 小时" in error.message
    walk(case, staff.coord, [
        ("record_escort_request", at(2026, 6, 1, 12),
         {"hospital_id": directory.bj.id, "starts_at": at(2026, 6, 4, 8), "ends_at": at(2026, 6, 4, 12)}),
        ("assign_escort", at(2026, 6, 2, 9), {"escort_id": directory.zhou.id}),
        ("reschedule_escort", at(2026, 6, 3, 9),
         {"starts_at": at(2026, 6, 5, 8), "ends_at": at(2026, 6, 5, 11), "reason": "检查改到周五"}),
    ])
    rows = list(db.session.scalars(select(EscortAssignment).order_by(EscortAssignment.id)))
    assert [r.cancelled_at is None for r in rows] == [False, True] and rows[1].escort_id == directory.zhou.id


def _departed(open_, staff, directory):
    case = open_("overseas_treatment", DAY1)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
                             ("launch_decision", at(2026, 6, 2, 10), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 3, 9))
    walk(case, staff.coord, [("materials_complete", at(2026, 6, 3, 10), {}),
                             ("history_translated", at(2026, 6, 5, 10), {})])
    transfers.give(case, hospital_id=directory.us.id, actor=staff.coord, channel="hotline", now=at(2026, 6, 10, 9))
    return walk(case, staff.coord, [
        ("hospital_accepted", at(2026, 6, 10, 10), {"hospital_id": directory.us.id}),
        ("visa_applied", at(2026, 6, 11, 10), {"applied_on": D(2026, 6, 11)}),
        ("visa_granted", at(2026, 6, 25, 10), {"decided_on": D(2026, 6, 25)}),
        ("local_escort_arranged", at(2026, 6, 26, 10), {"escort_name": "Linda Wang"}),
        ("treatment_arranged", at(2026, 6, 29, 10), {}),
        ("departed", at(2026, 7, 6, 10), {"on": D(2026, 7, 6)}),
    ])


def test_absurd_bills_are_refused_and_a_wrong_one_is_voided_and_entered_again(open_, staff, directory):
    case = _departed(open_, staff, directory)
    when = at(2026, 7, 8, 10)
    bill = {"hospital_name": "MD Anderson", "bill_date": D(2026, 7, 7), "currency": "JPY", "status": "received"}
    assert refused(case, "add_bill", staff.coord, when, amount="99999999999999999", **bill).field == "amount"
    assert refused(case, "add_bill", staff.coord, when, amount="100.005", **bill).field == "amount"
    assert refused(case, "add_bill", staff.coord, when, amount="100", **{**bill, "bill_date": D(2026, 5, 1)}).field \
        == "bill_date"  # before the case was opened
    walk(case, staff.coord, [("add_bill", when, {**bill, "amount": "12000.00"})])
    wrong = db.session.scalar(select(Bill))
    walk(case, staff.coord, [("void_bill", at(2026, 7, 8, 11), {"bill_id": wrong.id, "reason": "金额录错一位"}),
                             ("add_bill", at(2026, 7, 8, 12), {**bill, "amount": "1200.00"})])
    bills = list(db.session.scalars(select(Bill).order_by(Bill.id)))
    assert [(b.amount, b.voided_at is not None, b.void_reason) for b in bills] == [
        (Decimal("12000.00"), True, "金额录错一位"), (Decimal("1200.00"), False, None)]
    assert "作废账单" in case.events[-2].summary and "金额录错一位" in case.events[-2].summary
    again = refused(case, "void_bill", staff.coord, at(2026, 7, 8, 13), bill_id=wrong.id, reason="再次")
    assert again.field == "bill_id"


def test_a_voided_escort_hour_entry_frees_its_hours_under_the_cap(open_, staff, directory):
    case = _departed(open_, staff, directory)
    assert refused(case, "log_escort_hours", staff.coord, at(2026, 7, 8, 10), day=D(2026, 7, 5), hours="2",
                   escort_name="Linda Wang").field == "day"  # before the departure
    walk(case, staff.coord, [("log_escort_hours", at(2026, 7, 8, 10),
                              {"day": D(2026, 7, 7), "hours": "24", "escort_name": "Linda Wang"}),
                             ("log_escort_hours", at(2026, 7, 9, 10),
                              {"day": D(2026, 7, 8), "hours": "16", "escort_name": "Linda Wang"})])
    assert refused(case, "log_escort_hours", staff.coord, at(2026, 7, 9, 11), day=D(2026, 7, 8), hours="1",
                   escort_name="Linda Wang").field == "hours"  # 40 h used
    first = db.session.scalar(select(EscortHourLog).order_by(EscortHourLog.id))
    walk(case, staff.coord, [("void_escort_hours", at(2026, 7, 9, 12), {"hour_log_id": first.id,
                                                                        "reason": "应为 4 小时"}),
                             ("log_escort_hours", at(2026, 7, 9, 13),
                              {"day": D(2026, 7, 7), "hours": "4", "escort_name": "Linda Wang"})])
    assert "累计 20 小时" in case.events[-1].summary


# ---- a recorded outcome corrected (issue 14 item 3): a new record with its reason, never an edit ---------------

def _visited(open_, staff, directory, outcome="visited"):
    case = _booked(open_, staff, directory)
    return walk(case, staff.coord, [("record_visit", at(2026, 6, 10, 11), {"outcome": outcome})])


def _ledger(case):
    from portal.models import Entitlement, EntitlementEntry
    row = db.session.scalar(select(Entitlement).where(Entitlement.insured_id == case.insured_id,
                                                      Entitlement.line_code == case.line_code))
    kinds = list(db.session.scalars(select(EntitlementEntry.kind).where(EntitlementEntry.entitlement_id == row.id)
                                    .order_by(EntitlementEntry.id)))
    return row.reserved, row.consumed, kinds


def test_a_visit_recorded_wrongly_is_corrected_to_a_no_show_by_a_new_record(open_, staff, directory):
    from portal.models import OutcomeCorrection
    case = _visited(open_, staff, directory)
    clock_before = (case.clocks[0].outcome, case.clocks[0].breached)
    ledger_before = _ledger(case)
    walk(case, staff.coord, [("correct_outcome", at(2026, 6, 11, 9),
                              {"outcome": "no_show", "reason": "医院回复客户当天未到诊"})])
    assert (case.status, case.milestone) == ("completed", "no_show")
    row = db.session.scalar(select(OutcomeCorrection))
    assert (row.from_outcome, row.to_outcome, row.reason, row.corrected_by_id) == (
        "visited", "no_show", "医院回复客户当天未到诊", staff.coord.id)
    assert db.session.scalar(select(Appointment.outcome).where(Appointment.cancelled_at.is_(None))) == "no_show"
    # the first record stays in the history; the correction is a new event naming its reason
    assert [e.action for e in case.events[-2:]] == ["record_visit", "correct_outcome"]
    assert "已按时就医 → 未按时就医" in case.events[-1].summary and "客户当天未到诊" in case.events[-1].summary
    assert case.events[-1].data["milestone"] == {"from": "visited", "to": "no_show"}
    # a no-show uses the unit like a visit (seed): the ledger does not move; the arranging promise stays as it was
    assert _ledger(case) == ledger_before and ledger_before[:2] == (0, 1)
    assert (case.clocks[0].outcome, case.clocks[0].breached) == clock_before == ("met", False)
    note = db.session.scalar(select(Notification).order_by(Notification.id.desc()))
    assert note.title == "就医结果已更正" and "亦视为该次服务已使用" in note.body and "客户当天未到诊" in note.body


def test_a_no_show_corrected_to_a_visit_on_another_day(open_, staff, directory):
    case = _visited(open_, staff, directory, outcome="no_show")
    walk(case, staff.coord, [("correct_outcome", at(2026, 6, 12, 9),
                              {"outcome": "visited", "served_on": D(2026, 6, 11), "reason": "医院改到次日就诊"})])
    assert case.milestone == "visited"
    assert "实际就诊日期" in case.events[-1].summary
    # the day alone corrected again later: a second row, the milestone unchanged
    walk(case, staff.coord, [("correct_outcome", at(2026, 6, 12, 10),
                              {"outcome": "visited", "served_on": D(2026, 6, 10), "reason": "核对挂号单，应为当天"})])
    assert case.milestone == "visited" and case.events[-1].data["milestone"] == {"from": "visited", "to": "visited"}


def test_an_outcome_correction_is_checked_at_its_fields(open_, staff, directory):
    case = _visited(open_, staff, directory)
    when = at(2026, 6, 11, 9)
    same = refused(case, "correct_outcome", staff.coord, when, outcome="visited", reason="x")
    assert same.field == "outcome" and "无需更正" in same.message
    assert refused(case, "correct_outcome", staff.coord, when, outcome="no_show", reason="").field == "reason"
    assert refused(case, "correct_outcome", staff.coord, when, outcome="visited", served_on=D(2026, 6, 20),
                   reason="x").field == "served_on"  # in the future
    assert refused(case, "correct_outcome", staff.coord, when, outcome="visited", served_on=D(2026, 5, 20),
                   reason="x").field == "served_on"  # before the request
    assert refused(case, "correct_outcome", staff.coord, when, outcome="no_show", served_on=D(2026, 6, 10),
                   reason="x").field == "served_on"  # a no-show has no visit day
    assert refused(case, "correct_outcome", staff.coord, when, outcome="escorted", reason="x").field == "outcome"


def test_an_outcome_cannot_be_corrected_before_it_is_recorded_nor_by_the_insured(open_, staff, directory):
    case = _booked(open_, staff, directory)
    assert "不能执行“更正就医结果”" in refused(case, "correct_outcome", staff.coord, at(2026, 6, 4, 9),
                                            outcome="no_show", reason="x").message
    assert lifecycle.refusal(case, "correct_outcome", staff.coord) is not None


def test_an_escort_outcome_is_corrected_and_the_correction_rows_are_append_only(open_, staff, directory):
    from portal.models import AppendOnlyError, OutcomeCorrection
    case = open_("domestic_escort", DAY1)
    walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
        ("record_escort_request", at(2026, 6, 1, 12),
         {"hospital_id": directory.bj.id, "starts_at": at(2026, 6, 4, 8), "ends_at": at(2026, 6, 4, 12)}),
        ("assign_escort", at(2026, 6, 2, 9), {"escort_id": directory.zhou.id}),
        ("record_escort_outcome", at(2026, 6, 4, 13), {"outcome": "no_show"}),
        ("correct_outcome", at(2026, 6, 5, 9), {"outcome": "escorted", "reason": "陪诊员补报：已在门口会合"}),
    ])
    assert (case.status, case.milestone) == ("completed", "escorted")
    assert db.session.scalar(select(EscortAssignment.outcome).where(EscortAssignment.cancelled_at.is_(None))) \
        == "escorted"
    row = db.session.scalar(select(OutcomeCorrection))
    assert row.escort_assignment_id is not None and row.appointment_id is None
    row.reason = "改写"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
