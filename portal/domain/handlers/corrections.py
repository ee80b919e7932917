"""Corrections (issue 14): a booking is moved, a recorded outcome corrected, a wrong bill or escort-hour entry
voided and entered again — never edited or deleted; each names its reason in the history, and the SLA outcome
stays truthful."""

from datetime import datetime

from sqlalchemy import select

from ... import calendar
from ...extensions import db
from ...models import Appointment, Bill, EscortAssignment, EscortHourLog, OutcomeCorrection
from .. import history
from ..errors import DomainError
from ..product_data import HOTLINE
from ..wording import NO_SHOW_TOLD
from .base import Step, as_date, as_datetime, fetch, handles, hours_text, local_time

#: what record_visit / record_escort_outcome may record; each outcome is also the milestone it reaches
OUTCOMES = {
    "record_visit": {"visited": "已按时就医", "no_show": "未按时就医（视为完成）"},
    "record_escort_outcome": {"escorted": "已完成陪诊", "no_show": "未按约定就诊（视为完成）"},
}

#: an escort booking is one visit, not days of escorting (50 hours were once accepted)
MAX_ESCORT_HOURS = 12


def _reason(step: Step) -> str:
    return step.require("reason", "请说明更正的原因")[:200]


def booking_time_problem(case, when: datetime, now: datetime) -> str | None:
    """A booked time must be in the future and within the policy period (2030 for a 2026 policy was accepted)."""
    if when <= now:
        return "预约时间必须晚于当前时间"
    if calendar.to_business_date(when) > case.policy.end_date:
        return f"预约日期不能晚于保单期满日 {case.policy.end_date.isoformat()}"
    return None


def _truthful_outcome(step: Step, what: str) -> None:
    """A booking moved after the arranging deadline is a late arrangement: the clock records the breach."""
    for clock in step.case.clocks:
        if clock.state == "stopped" and clock.outcome == "met" and clock.deadline and step.now > clock.deadline:
            clock.outcome, clock.breached, clock.breached_at = "breached", True, clock.deadline
            history.append(step.case, actor=None, kind="clock", action="breached", internal=True, now=step.now,
                           summary=f"{what}晚于时限（应于 {calendar.format_cn_date(clock.due_date)}前完成），记为超时",
                           data={"clock_id": clock.id, "clock": clock.kind, "due_date": clock.due_date})


@handles("reschedule_appointment")
def reschedule_appointment(step: Step) -> None:
    """Move the booked appointment (same hospital and department); the old booking stays, cancelled."""
    case = step.case
    current = db.session.scalar(select(Appointment).where(
        Appointment.case_id == case.id, Appointment.cancelled_at.is_(None)).order_by(Appointment.id.desc()))
    if current is None:
        raise DomainError("没有有效的预约可改约")
    when = as_datetime(step.require("scheduled_at", "请选择新的就诊时间"), "scheduled_at", "时间格式不正确")
    if problem := booking_time_problem(case, when, step.now):
        raise DomainError(problem, field="scheduled_at")
    reason = _reason(step)
    current.cancelled_at = step.now
    moved = Appointment(case_id=case.id, hospital_id=current.hospital_id, department=current.department,
                        scheduled_at=when, booked_by_id=step.actor.id, booked_at=step.now, notes=f"改约：{reason}")
    db.session.add(moved)
    db.session.flush()
    _truthful_outcome(step, "改约")
    step.data = {"appointment_id": moved.id, "replaces": current.id, "reason": reason}
    step.summary = f"改约就诊时间：{local_time(current.scheduled_at)} → {local_time(when)}（{reason}）"
    step.notify("就诊时间已变更", f"您的就诊时间已改为{local_time(when)}（原为{local_time(current.scheduled_at)}）。"
                f"原因：{reason}。如未按新的时间就诊，本次服务视为已使用。")


@handles("reschedule_escort")
def reschedule_escort(step: Step) -> None:
    """Move the escort booking; the same escort must be free at the new time."""
    case = step.case
    current = db.session.scalar(select(EscortAssignment).where(
        EscortAssignment.case_id == case.id, EscortAssignment.cancelled_at.is_(None))
        .order_by(EscortAssignment.id.desc()))
    if current is None:
        raise DomainError("没有有效的陪诊安排可改约")
    starts_at = as_datetime(step.require("starts_at", "请选择新的陪诊开始时间"), "starts_at", "时间格式不正确")
    ends_at = as_datetime(step.require("ends_at", "请选择新的陪诊结束时间"), "ends_at", "时间格式不正确")
    if problem := booking_time_problem(case, starts_at, step.now):
        raise DomainError(problem, field="starts_at")
    check_escort_window(starts_at, ends_at)
    clash = db.session.scalar(select(EscortAssignment.id).where(
        EscortAssignment.escort_id == current.escort_id, EscortAssignment.cancelled_at.is_(None),
        EscortAssignment.id != current.id, EscortAssignment.starts_at < ends_at,
        EscortAssignment.ends_at > starts_at).limit(1))
    if clash is not None:
        raise DomainError("该陪诊员在新的时段已有其他安排", field="starts_at")
    reason = _reason(step)
    current.cancelled_at = step.now
    moved = EscortAssignment(case_id=case.id, escort_id=current.escort_id, hospital_id=current.hospital_id,
                             department=current.department, starts_at=starts_at, ends_at=ends_at,
                             assigned_by_id=step.actor.id, assigned_at=step.now)
    db.session.add(moved)
    case.request_data = {**(case.request_data or {}),
                         "escort_window": {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}}
    db.session.flush()
    _truthful_outcome(step, "改约陪诊")
    step.data = {"escort_assignment_id": moved.id, "replaces": current.id, "reason": reason}
    step.summary = f"改约陪诊时间：{local_time(current.starts_at)} → {local_time(starts_at)}（{reason}）"
    step.notify("陪诊时间已变更", f"陪诊时间已改为{local_time(starts_at)}至{local_time(ends_at)}。原因：{reason}。")


def outcome_choices(line_code: str) -> dict[str, str]:
    """The outcomes a booking of this line can have (the escort's, or the green channel's)."""
    return OUTCOMES["record_escort_outcome" if line_code == "domestic_escort" else "record_visit"]


def _booking_with_outcome(case):
    """The case's booking whose outcome was recorded (the one not superseded by a rebooking)."""
    model = EscortAssignment if case.line_code == "domestic_escort" else Appointment
    return db.session.scalar(select(model).where(
        model.case_id == case.id, model.cancelled_at.is_(None), model.outcome.is_not(None)).order_by(model.id.desc()))


def _recorded_day(case, booking):
    """The day the record says the insured was seen: the last corrected day, else the booked day."""
    last = db.session.scalar(select(OutcomeCorrection).where(OutcomeCorrection.case_id == case.id)
                             .order_by(OutcomeCorrection.id.desc()))
    if last is not None and last.served_on is not None:
        return last.served_on
    return calendar.to_business_date(getattr(booking, "starts_at", None) or booking.scheduled_at)


def _served_on(step: Step, outcome: str):
    """The corrected day of the visit, when given: not for a no-show, after submission, not in the future,
    within the policy period."""
    value = step.get("served_on")
    if value is None:
        return None
    day = as_date(value, "served_on", "日期格式不正确")
    case = step.case
    if outcome == "no_show":
        raise DomainError("客户未到时不填写实际就诊日期", field="served_on")
    if day > step.today:
        raise DomainError("实际就诊日期不能晚于今天", field="served_on")
    submitted = calendar.to_business_date(case.submitted_at)
    if day < submitted:
        raise DomainError(f"实际就诊日期不能早于申请提交日 {calendar.format_cn_date(submitted)}", field="served_on")
    if not case.policy.start_date <= day <= case.policy.end_date:
        raise DomainError("实际就诊日期须在保单期间内", field="served_on")
    return day


@handles("correct_outcome")
def correct_outcome(step: Step) -> None:
    """Correct a recorded visit or escort outcome (or the day it happened): a new OutcomeCorrection row with the
    reason; the booking and milestone show the corrected value. Both outcomes use the unit (seed: 未在预定时间
    就医，亦视为该次服务已完成), so the case stays completed, the ledger and the arranging clock do not move."""
    case = step.case
    booking = _booking_with_outcome(case)
    if booking is None:
        raise DomainError("本案件没有已登记的就医结果可更正")
    choices = outcome_choices(case.line_code)
    outcome = step.get("outcome") or booking.outcome
    if outcome not in choices:
        raise DomainError("请选择结果：" + "或".join(f"“{label}”" for label in choices.values()), field="outcome")
    served_on = _served_on(step, outcome)
    before, recorded = booking.outcome, _recorded_day(case, booking)
    if outcome == before and (served_on is None or served_on == recorded):
        raise DomainError("与已登记的结果相同，无需更正", field="outcome")
    reason = _reason(step)
    escort = isinstance(booking, EscortAssignment)
    row = OutcomeCorrection(case_id=case.id, appointment_id=None if escort else booking.id,
                            escort_assignment_id=booking.id if escort else None, from_outcome=before,
                            to_outcome=outcome, served_on=served_on, reason=reason, corrected_by_id=step.actor.id,
                            corrected_at=step.now)
    db.session.add(row)
    booking.outcome = outcome
    db.session.flush()
    step.milestone = outcome if outcome != before else None
    day = f"，实际就诊日期 {calendar.format_cn_date(served_on)}" if served_on else ""
    step.data = {"outcome_correction_id": row.id, "from": before, "to": outcome, "reason": reason,
                 "served_on": served_on.isoformat() if served_on else None}
    step.summary = f"更正就医结果：{choices[before]} → {choices[outcome]}{day}（{reason}）"
    what = "陪诊" if escort else "就医"
    told = NO_SHOW_TOLD if outcome == "no_show" else "本次服务已完成。"
    step.notify("就医结果已更正", f"经核实，您本次{what}的结果已更正为“{choices[outcome].split('（')[0]}”{day}。"
                f"{told}更正原因：{reason}。如有疑问请致电 {HOTLINE}。",
                sms_note=NO_SHOW_TOLD if outcome == "no_show" else None)


def check_escort_window(starts_at: datetime, ends_at: datetime) -> None:
    """An escort window is one visit: it ends after it starts and lasts at most MAX_ESCORT_HOURS."""
    if ends_at <= starts_at:
        raise DomainError("陪诊结束时间必须晚于开始时间", field="ends_at")
    if (ends_at - starts_at).total_seconds() > MAX_ESCORT_HOURS * 3600:
        raise DomainError(f"一次陪诊不超过 {MAX_ESCORT_HOURS} 小时，请核对结束时间", field="ends_at")


@handles("void_bill")
def void_bill(step: Step) -> None:
    """A wrongly entered bill is voided with the reason (kept on record); the right one is entered anew."""
    bill = _void(step, Bill, "bill_id", choose="账单", what="账单")
    reason = bill.void_reason
    step.data = {"bill_id": bill.id, "reason": reason}
    step.summary = f"作废账单：{bill.hospital_name} {bill.currency} {bill.amount:,.2f}（{reason}）"


@handles("void_escort_hours")
def void_escort_hours(step: Step) -> None:
    """A wrong escort-hour entry is voided with the reason; its hours no longer count toward the 40 h cap."""
    entry = _void(step, EscortHourLog, "hour_log_id", choose="陪诊时长记录", what="记录")
    reason = entry.void_reason
    step.data = {"escort_hour_log_id": entry.id, "reason": reason}
    step.summary = (f"作废陪诊时长记录：{entry.day.isoformat()} {hours_text(entry.hours)} 小时"
                    f"（{entry.escort_name}；{reason}）")


#: the largest bill amount accepted in any currency (exact decimal, two places)
MAX_BILL_AMOUNT = 10_000_000


def _void(step: Step, model, field: str, *, choose: str, what: str):
    """The entry of this case named by `field`, voided now with the step's reason (it stays on record)."""
    entry = fetch(model, step.require(field, f"请选择{choose}"), field, f"所选{what}不存在")
    if entry.case_id != step.case.id:
        raise DomainError(f"所选{what}不属于本案件", field=field)
    if entry.voided_at is not None:
        raise DomainError(f"该{what}已作废", field=field)
    entry.voided_at, entry.void_reason = step.now, _reason(step)
    return entry
