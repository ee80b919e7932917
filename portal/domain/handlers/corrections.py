"""Corrections (issue 14): a booking is moved, a wrong bill or escort-hour entry is voided and entered again —
never edited or deleted; each names its reason in the history, and the SLA outcome stays truthful."""

from datetime import datetime

from sqlalchemy import select

from ... import calendar
from ...extensions import db
from ...models import Appointment, Bill, EscortAssignment, EscortHourLog
from .. import history
from ..errors import DomainError
from .base import Step, as_datetime, fetch, handles, hours_text, local_time

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
