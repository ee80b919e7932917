"""The one engine for every case transition: checks, handler, clocks, ledger, history, notices (SPEC §4)."""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from .. import calendar
from ..extensions import db
from ..models import OPEN_STATUSES, STATUSES, Appointment, EscortAssignment, utcnow
from . import history, ledger, lines, notify, sla
from .errors import DomainError, StaleCaseError
from .handlers import HANDLERS
from .handlers.base import Step, line_name, service_name
from .lines import ACTIONS, TERMINATION_REASONS, ActionSpec


def perform(case, action: str, *, actor, expected_version: int | None = None, now: datetime | None = None,
            **fields):
    """Run `action` on the case as `actor` (staff, or the case's insured for cancel); the caller commits."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise DomainError(f"未知的操作“{action}”")
    unknown = set(fields) - set(spec.fields)
    if unknown:
        raise TypeError(f"{action}() got unexpected fields: {', '.join(sorted(unknown))}")
    if expected_version is not None and int(expected_version) != case.version:
        raise StaleCaseError()
    if why := _refusal(case, spec, actor):
        raise DomainError(why)
    _run(Step(case=case, spec=spec, actor=actor, now=now or utcnow(), fields=fields,
              milestone=spec.sets_milestone, to_status=spec.to_status, summary=spec.label))
    return case


def perform_automatic(case, action: str, *, actor, summary: str, now: datetime | None = None, **fields):
    """A step the rules take by themselves, caused by `actor` (e.g. the insured's upload of what was asked
    ends the pause): the table's status and milestone checks apply, the role check does not; the caller commits."""
    spec = ACTIONS[action]
    if case.status not in spec.from_statuses:
        raise DomainError(f"当前状态“{STATUSES.get(case.status, case.status)}”不能执行“{spec.label}”")
    if why := _milestone_refusal(case, spec):
        raise DomainError(why)
    _run(Step(case=case, spec=spec, actor=actor, now=now or utcnow(), fields=fields,
              milestone=spec.sets_milestone, to_status=spec.to_status, summary=spec.label), summary=summary)
    return case


def _run(step: Step, *, summary: str | None = None) -> None:
    """The action's handler (guards and side rows), then its outcome written."""
    if handler := HANDLERS.get(step.spec.code):
        handler(step)
    if summary:
        step.summary = summary
    _apply(step)


#: a termination no one picks from the UI: a rule decides it (e.g. consent withdrawn, SPEC §7)
RULE_TERMINATION = ActionSpec("terminate_by_rule", "依规终止服务", from_statuses=OPEN_STATUSES, to_status="terminated",
                              roles=())


def terminate_by_rule(case, *, reason: str, actor, summary: str, data: dict | None = None,
                      notice: tuple[str, str] | None = None, now: datetime | None = None):
    """Terminate an open case because a rule says so (no role check: the rule, not the actor, decides);
    clocks void, the unit consumed or released by the reason's flag, history and the insured told."""
    if case.status not in OPEN_STATUSES:
        raise DomainError("案件已结束")
    step = Step(case=case, spec=RULE_TERMINATION, actor=actor, now=now or utcnow(), fields={},
                to_status="terminated", reason=reason, summary=summary, data=dict(data or {}))
    if notice:
        step.notify(*notice)
    _apply(step)
    return case


def available_actions(case, user) -> list[ActionSpec]:
    """The actions `user` may take on the case now (fields not yet checked), in table order."""
    return list(iter_available_actions(case, user))


def iter_available_actions(case, user) -> Iterator[ActionSpec]:
    """available_actions, one at a time: the queue wants only the first that moves each of its 50 rows on."""
    return (spec for spec in ACTIONS.values() if _refusal(case, spec, user, explain=False) is None)


def refusal(case, code: str, user) -> str | None:
    """Why `user` may not run action `code` on the case now, in plain Chinese; None when allowed (a read)."""
    spec = ACTIONS.get(code)
    return f"未知的操作“{code}”" if spec is None else _refusal(case, spec, user)


def _refusal(case, spec: ActionSpec, actor, *, explain: bool = True) -> str | None:
    """Why `actor` may not run `spec` on the case now, in plain Chinese; None when allowed.

    explain=False skips the wording that needs the product (no queries when listing actions of many cases).
    """
    label = spec.label
    if actor is None or getattr(actor, "role", None) not in spec.roles or not getattr(actor, "active", True):
        return f"您没有权限执行“{label}”"
    if actor.role == "insured" and actor.insured_id != case.insured_id:
        return "只能操作您本人的申请"
    if actor.role == "coordinator" and case.assignee_id not in (None, actor.id):
        return f"该案件由其他协调员负责，您不能执行“{label}”"
    if spec.lines is not None and case.line_code not in spec.lines:
        return f"“{line_name(case)}”没有“{label}”这一步" if explain else "line"
    if case.status not in spec.from_statuses:
        return f"当前状态“{STATUSES.get(case.status, case.status)}”不能执行“{label}”"
    return _milestone_refusal(case, spec)


def _milestone_refusal(case, spec: ActionSpec) -> str | None:
    """Milestones are reached in the line's order, each once."""
    line, label = case.line_code, spec.label
    codes = lines.milestone_codes(line)

    def position(code):
        return codes.index(code) if code in codes else -1

    current = position(case.milestone)
    needed = lines.required_milestone(spec, line)
    if needed is not None and current < position(needed):
        return f"需先完成“{lines.milestone_label(line, needed)}”，才能执行“{label}”"
    until = lines.until_milestone(spec, line)
    if until is not None and current >= position(until):
        return f"案件已进行到“{lines.milestone_label(line, until)}”，不能再执行“{label}”"
    if spec.sets_milestone and current >= position(spec.sets_milestone):
        return f"“{lines.milestone_label(line, spec.sets_milestone)}”已完成，不能重复执行“{label}”"
    return None


def _apply(step: Step) -> None:
    """Write the outcome of a step: case columns, clocks, ledger, the CaseEvent and the insured's notices."""
    case, actor, now = step.case, step.actor, step.now
    before_status, before_milestone = case.status, case.milestone
    data = {"fields": step.fields, **step.data}
    if actor.role == "coordinator" and case.assignee_id is None:
        case.assignee_id = actor.id  # acting on an unassigned case takes it
        data["took_assignment"] = True
    if step.milestone:
        case.milestone = step.milestone
    if step.to_status:
        case.status = step.to_status
    if case.status == "terminated" and before_status != "terminated":
        case.termination_reason = step.reason
    case.updated_at = now  # every action bumps the version, so concurrent edits of any kind conflict

    if step.milestone:
        for clock in sla.start(case, step.milestone, on_date=step.today, now=now):
            _tell_started(step, clock)
        sla.stop(case, step.milestone, now=now)
    if case.status == "awaiting_documents" and before_status != "awaiting_documents":
        sla.pause(case, now=now)
    elif before_status == "awaiting_documents" and case.status != "awaiting_documents":
        sla.resume(case, now=now)
    closing = before_status in OPEN_STATUSES and case.status not in OPEN_STATUSES
    if closing:
        _close(step)

    data["milestone"] = {"from": before_milestone, "to": case.milestone}
    kind = "transition" if case.status != before_status else "milestone" if step.milestone else step.spec.kind
    history.append(case, actor=actor, kind=kind, action=step.spec.code, summary=step.summary,
                   from_status=before_status, to_status=case.status, data=data, internal=step.spec.internal, now=now)
    for title, body, sms_note in step.notices:
        notify.insured(case, title, body, sms_note=sms_note)


def _tell_started(step: Step, clock) -> None:
    """A promise that starts mid-case (the report clock once materials are complete): the insured hears it."""
    text = f"我们将最晚于 {calendar.format_cn_date(clock.due_date)}前{sla.PROMISE_VERBS.get(clock.kind, '为您办理')}"
    step.notify("服务时限开始计算", f"{sla.clock_label(clock.kind)}从今天起计算：{text}"
                + ("（暂定：该年度节假日安排尚未公布，日期可能调整）" if clock.provisional else "") + "。")


def _close(step: Step) -> None:
    """The case ended: remaining clocks void, the unit consumed or released, the insured told."""
    case, now = step.case, step.now
    case.closed_at = now
    sla.void(case, now=now)
    if case.status != "completed":
        _release_bookings(case, now)
    reason = TERMINATION_REASONS.get(case.termination_reason) if case.status == "terminated" else None
    if case.status == "completed" or (reason is not None and lines.consumes_entitlement(case.termination_reason, case)):
        ledger.consume(case, actor=step.actor, now=now)
    else:
        ledger.release(case, actor=step.actor, now=now)  # a no-op for cases refused at intake
    if step.notices:
        return
    name = service_name(case)
    if case.status == "completed":
        step.notify("服务已完成", f"您的{name}已完成，感谢您的信任。")
    elif case.status == "terminated":
        note = (step.fields.get("note") or "").strip()
        step.notify("服务已终止", f"您的{name}已终止。原因：{reason.label if reason else '—'}。"
                    + (f"说明：{note}" if note else ""))
    else:
        step.notify("申请已取消", f"您的{name}申请已取消，占用的服务次数已退回。")



def _release_bookings(case, now: datetime) -> None:
    """A case that ends without being served frees its appointment and escort slots (kept, marked cancelled)."""
    for model in (Appointment, EscortAssignment):
        for booking in db.session.scalars(select(model).where(
                model.case_id == case.id, model.cancelled_at.is_(None), model.outcome.is_(None))):
            booking.cancelled_at = now
