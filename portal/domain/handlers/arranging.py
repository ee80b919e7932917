"""Green-channel appointments and domestic escorts: the lines that end in an "arranged" booking (SPEC §4)."""

from sqlalchemy import select, update

from ... import calendar
from ...extensions import db
from ...models import Appointment, Escort, EscortAssignment, Hospital
from .. import directory, sla
from ..eligibility import check_admission_slip
from ..errors import DomainError
from ..product_data import HOTLINE
from ..wording import NO_SHOW_TERMS, NO_SHOW_TOLD, no_show_message
from .base import Step, as_date, as_datetime, fetch, handles, local_time
from .corrections import OUTCOMES, booking_time_problem, check_escort_window  # noqa: F401  (OUTCOMES re-exported)


def _hospital(step: Step) -> Hospital:
    """A domestic directory hospital in the case's city, listed when the case was requested (the directory at
    request time rules: one deactivated since stays valid for this case)."""
    hospital = fetch(Hospital, step.require("hospital_id", "请选择医院"), "hospital_id", "所选医院不存在")
    if hospital.overseas or not directory.listed_when_requested(hospital, step.case):
        raise DomainError(f"“{hospital.name}”不在当前合作医院目录中", field="hospital_id")
    case = step.case
    if case.city is None:
        line = case.policy.product.line(case.line_code)
        if line.cities is not None and hospital.city not in line.cities:
            raise DomainError(f"{hospital.city}不在本服务的覆盖城市内", field="hospital_id")
        case.city = hospital.city
    if hospital.city != case.city:
        raise DomainError(f"“{hospital.name}”位于{hospital.city}，与申请的就诊城市{case.city}不符",
                          field="hospital_id")
    return hospital


def _future(step: Step, name: str, missing: str):
    """A booking time: in the future and within the policy period (issue 14: 2030 was once accepted)."""
    when = as_datetime(step.require(name, missing), name, "时间格式不正确")
    if problem := booking_time_problem(step.case, when, step.now):
        raise DomainError(problem, field=name)
    return when


@handles("confirm_hospital")
def confirm_hospital(step: Step) -> None:
    """City and hospital confirmed; for inpatient also the admission slip, which starts the 10-day clock."""
    case, hospital = step.case, _hospital(step)
    case.hospital_id = hospital.id
    case.department = (step.get("department") or case.department or "").strip() or None
    step.summary = f"确认就诊医院：{hospital.city} {hospital.name}" + (f" {case.department}" if case.department else "")
    if case.line_code == "green_inpatient":
        if step.get("admission_slip_date") is None and case.admission_slip_date is not None:
            step.fields = {**step.fields, "admission_slip_date": case.admission_slip_date}  # given at intake
        slip = as_date(step.require("admission_slip_date", "住院预约须填写住院条开具日期"), "admission_slip_date",
                       "日期格式不正确")
        check_admission_slip(slip, step.today)
        previous, case.admission_slip_date = case.admission_slip_date, slip
        # seed: 客户申请且住院条开具之日起 — the later of the two days starts the count
        start_on = max(slip, calendar.to_business_date(case.submitted_at))
        sla.start(case, "admission_slip", on_date=start_on, now=step.now)
        # a corrected slip date (before the booking, which needs this milestone) moves the clock's start too
        moved = sla.move_start(case, "admission_slip", on_date=start_on)
        step.summary += f"，住院条开具于 {slip.isoformat()}"
        if previous is not None and previous != slip:
            step.data["admission_slip_corrected"] = {"from": previous.isoformat(), "to": slip.isoformat()}
            step.summary += f"（由 {previous.isoformat()} 更正）"
        if moved:
            step.data["clock_start_moved"] = [{"clock": c.kind, "from": old.isoformat(), "to": start_on.isoformat(),
                                              "due_date": c.due_date.isoformat()} for c, old in moved]
            step.summary += f"，住院安排时限改自 {start_on.isoformat()} 起算"


@handles("enter_admission_slip")
def enter_admission_slip(step: Step) -> None:
    """The insured, who applied before the 住院条 existed, enters its date: the 10-working-day clock starts
    today. The seed counts from 客户申请且住院条开具之日 — the application is complete only now that 英仕 has the
    slip, so a slip dated before today (or before the request) never starts a clock that is already overdue."""
    case = step.case
    if case.admission_slip_date is not None:
        raise DomainError(f"住院条开具日期已登记（{calendar.format_cn_date(case.admission_slip_date)}），"
                          f"如需更正请致电 {HOTLINE}", field="admission_slip_date")
    slip = as_date(step.require("admission_slip_date", "请填写住院条开具日期"), "admission_slip_date",
                   "日期格式不正确")
    check_admission_slip(slip, step.today)
    if slip < case.policy.start_date:
        raise DomainError("住院条开具日期不能早于保单生效日", field="admission_slip_date")
    case.admission_slip_date = slip
    started = sla.start(case, "admission_slip", on_date=step.today, now=step.now)
    if case.status == "awaiting_documents":
        sla.pause(case, now=step.now)  # still waiting on the insured: the new clock waits too
    step.summary = f"客户提交住院条开具日期：{calendar.format_cn_date(slip)}"
    for clock in started:
        step.notify("住院安排时限开始计算", f"已收到您的住院条开具日期（{calendar.format_cn_date(slip)}）。"
                    f"我们将最晚于 {calendar.format_cn_date(clock.due_date)}前为您安排住院"
                    + ("（暂定：该年度节假日安排尚未公布，日期可能调整）" if clock.provisional else "") + "。")


@handles("book_appointment")
def book_appointment(step: Step) -> None:
    """Book the appointment at a cooperating hospital and tell the insured (= arranged)."""
    case, hospital = step.case, _hospital(step)
    department = step.require("department", "请填写就诊科室")
    when = _future(step, "scheduled_at", "请选择就诊日期和时间")
    for earlier in db.session.scalars(select(Appointment).where(
            Appointment.case_id == case.id, Appointment.cancelled_at.is_(None))):
        earlier.cancelled_at = step.now  # a rebooking supersedes, never deletes
    appointment = Appointment(case_id=case.id, hospital_id=hospital.id, department=department, scheduled_at=when,
                              booked_by_id=step.actor.id, booked_at=step.now)
    db.session.add(appointment)
    db.session.flush()
    case.hospital_id, case.department = hospital.id, department
    step.data = {"appointment_id": appointment.id, "hospital": hospital.name}
    step.summary = f"预约挂号：{hospital.name} {department} {local_time(when)}"
    step.notify("就医预约已安排",
                f"已为您预约{hospital.name}{department}，就诊时间：{local_time(when)}。"
                f"医院地址：{hospital.city}{hospital.address or ''}。请携带身份证件及病历资料按时就诊。"
                + NO_SHOW_TERMS["appointment"], sms_note=NO_SHOW_TERMS["appointment"])


@handles("record_visit")
def record_visit(step: Step) -> None:
    """Visited or no-show: either way the service is completed (seed: 未在预定时间就医，亦视为完成)."""
    appointment = db.session.scalar(select(Appointment).where(
        Appointment.case_id == step.case.id, Appointment.cancelled_at.is_(None)).order_by(Appointment.id.desc()))
    outcome = _outcome(step)
    if appointment is None:
        raise DomainError("没有有效的预约")
    if step.now < appointment.scheduled_at:
        raise DomainError("预约就诊时间尚未到，不能登记就医结果", field="outcome")
    appointment.outcome = outcome


def escort_hospital(case) -> str:
    """Where the escort meets the insured: the directory hospital, or the name the insured gave."""
    if case.hospital_id is not None:
        return db.session.get(Hospital, case.hospital_id).name
    return (case.request_data or {}).get("hospital_name") or ""


def _escort_place(step: Step) -> tuple[Hospital | None, str]:
    """The hospital of an escort: a directory hospital in the case's city, or a typed name (seed: the escort
    city list rules, not the hospital directory). Defaults to what the request named."""
    case = step.case
    if step.get("hospital_id") is not None:
        hospital = fetch(Hospital, step.get("hospital_id"), "hospital_id", "所选医院不存在")
        if hospital.overseas or hospital.city != case.city:
            raise DomainError(f"“{hospital.name}”不在陪诊城市{case.city}", field="hospital_id")
        return hospital, hospital.name
    typed = str(step.get("hospital_name") or "").strip()
    if typed:
        if len(typed) > 120:
            raise DomainError("医院名称最多 120 个字", field="hospital_name")
        return None, typed
    if case.hospital_id is not None or (case.request_data or {}).get("hospital_name"):
        hospital = db.session.get(Hospital, case.hospital_id) if case.hospital_id else None
        return hospital, escort_hospital(case)
    raise DomainError("请选择医院或填写医院名称", field="hospital_name")


@handles("record_escort_request")
def record_escort_request(step: Step) -> None:
    """Record where and when the insured needs an escort; the hospital from the directory or typed."""
    case = step.case
    hospital, place = _escort_place(step)
    starts_at = _future(step, "starts_at", "请选择陪诊开始时间")
    ends_at = as_datetime(step.require("ends_at", "请选择陪诊结束时间"), "ends_at", "时间格式不正确")
    check_escort_window(starts_at, ends_at)
    case.hospital_id = hospital.id if hospital is not None else None
    data = {**(case.request_data or {}),
            "escort_window": {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}}
    if hospital is None:
        data["hospital_name"] = place
    else:
        data.pop("hospital_name", None)
    case.request_data = data
    step.summary = f"记录陪诊需求：{case.city} {place} {local_time(starts_at)}–{local_time(ends_at)}"


@handles("assign_escort")
def assign_escort(step: Step) -> None:
    """Book an escort of the case's city; an escort is never booked twice at overlapping times (= arranged)."""
    case = step.case
    escort_id = step.require("escort_id", "请选择陪诊员")
    escort = db.session.get(Escort, int(escort_id)) if str(escort_id).isdigit() else None
    if escort is None or not escort.active:
        raise DomainError("所选陪诊员不存在或已停用", field="escort_id")
    # a write to the escort's row before the overlap check serialises two bookings of the same escort:
    # a row lock on PostgreSQL, the database write lock on SQLite (where SELECT ... FOR UPDATE does nothing)
    db.session.execute(update(Escort).where(Escort.id == escort.id).values(updated_at=step.now))
    if escort.city != case.city:
        raise DomainError(f"陪诊员{escort.name}在{escort.city}服务，与陪诊城市{case.city}不符", field="escort_id")
    window = (case.request_data or {}).get("escort_window") or {}
    starts_at = as_datetime(window.get("starts_at"), "escort_id", "请先记录陪诊时间")
    ends_at = as_datetime(window.get("ends_at"), "escort_id", "请先记录陪诊时间")
    clash = db.session.scalar(select(EscortAssignment.id).where(
        EscortAssignment.escort_id == escort.id, EscortAssignment.cancelled_at.is_(None),
        EscortAssignment.starts_at < ends_at, EscortAssignment.ends_at > starts_at).limit(1))
    if clash is not None:
        raise DomainError("该陪诊员在该时段已有其他安排", field="escort_id")
    assignment = EscortAssignment(case_id=case.id, escort_id=escort.id, hospital_id=case.hospital_id,
                                  department=case.department, starts_at=starts_at, ends_at=ends_at,
                                  assigned_by_id=step.actor.id, assigned_at=step.now)
    db.session.add(assignment)
    db.session.flush()
    step.data = {"escort_assignment_id": assignment.id, "escort": escort.name}
    step.summary = f"安排陪诊员：{escort.name}（{escort.phone}）{local_time(starts_at)}"
    step.notify("陪诊已安排",
                f"陪诊员{escort.name}（电话 {escort.phone}）将于{local_time(starts_at)}至"
                f"{local_time(ends_at)}在{escort_hospital(case)}陪同您就诊，请保持电话畅通。" + NO_SHOW_TERMS["escort"],
                sms_note=NO_SHOW_TERMS["escort"])


@handles("record_escort_outcome")
def record_escort_outcome(step: Step) -> None:
    """Escorted or no-show: either way the service is completed (seed: 亦视为该次服务已完成)."""
    assignment = db.session.scalar(select(EscortAssignment).where(
        EscortAssignment.case_id == step.case.id, EscortAssignment.cancelled_at.is_(None))
        .order_by(EscortAssignment.id.desc()))
    outcome = _outcome(step)
    if assignment is None:
        raise DomainError("没有有效的陪诊安排")
    if step.now < assignment.starts_at:
        raise DomainError("陪诊时间尚未到，不能登记陪诊结果", field="outcome")
    assignment.outcome = outcome


def _outcome(step: Step) -> str:
    """The outcome field; it also names the milestone reached (visited/escorted or no_show)."""
    choices = OUTCOMES[step.spec.code]
    outcome = step.get("outcome", next(iter(choices)))
    if outcome not in choices:
        raise DomainError("请选择结果：" + "或".join(f"“{label}”" for label in choices.values()), field="outcome")
    step.milestone = outcome
    step.summary = f"{step.spec.label}：{choices[outcome]}"
    if outcome == "no_show":
        step.notify("服务已完成（未按时就诊）", no_show_message(step.case.line_code), sms_note=NO_SHOW_TOLD)
    return outcome
