"""SLA clocks: start, pause, resume, stop and void; deadlines in working days (SPEC §5)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select

from .. import calendar
from ..extensions import db
from ..models import SlaClock, utcnow
from . import history
from .product_data import CLOCK_LABELS

OPEN_STATES = ("running", "paused")

#: what the promise to the insured says per clock kind
PROMISE_VERBS = {
    "arrange": "为您安排",
    "decision": "告知您是否启动服务",
    "report": "向您提供报告",
    "treatment": "为您安排海外就医",
}


def clock_label(kind: str) -> str:
    """Chinese name of a clock kind, e.g. 安排时限."""
    return CLOCK_LABELS.get(kind, kind)


def _definitions(case) -> list[dict]:
    """The clock definitions of the case's service line (product data)."""
    line = case.policy.product.line(case.line_code)
    return list(line.clocks) if line is not None else []


def _clock(case, definition: dict) -> SlaClock:
    """The case's row for a definition; created pending when intake did not (older cases, tests)."""
    for clock in case.clocks:
        if clock.kind == definition["kind"]:
            return clock
    clock = SlaClock(case=case, kind=definition["kind"], days=definition["days"], state="pending",
                     paused_days=0, provisional=False, breached=False)
    db.session.add(clock)
    return clock


def _provisional(first: date, last: date) -> bool:
    """True when any year from first to last has no official holiday data."""
    return any(calendar.is_provisional(date(year, 1, 1)) for year in range(first.year, last.year + 1))


def _recompute(clock: SlaClock) -> None:
    """Due date = the (days + paused_days)-th working day after the start date; end of that day is the deadline."""
    clock.due_date = calendar.add_working_days(clock.start_date, clock.days + clock.paused_days)
    clock.deadline = calendar.end_of_business_day(clock.due_date)
    clock.provisional = _provisional(clock.start_date, clock.due_date)


def _fold_pause(clock: SlaClock, today: date) -> None:
    """End a pause: the working days spent paused extend the deadline; the pause is kept to recount later."""
    if clock.state == "paused" and clock.paused_on is not None:
        if clock.pauses is not None or clock.paused_days == 0:  # a clock from before the log never starts one
            clock.pauses = [*(clock.pauses or []), [clock.paused_on.isoformat(), today.isoformat()]]
        clock.paused_days += calendar.working_days_between(clock.paused_on, today)
        clock.paused_on = None
        clock.state = "running"
        _recompute(clock)


def _close(case, clock: SlaClock, outcome: str, now: datetime) -> None:
    """Stop a clock for good; a breach, once recorded, is never taken back."""
    clock.state = "stopped"
    clock.stopped_at = now
    clock.outcome = "breached" if clock.breached else outcome
    if clock.outcome == "breached" and not clock.breached:
        clock.breached = True
        # dated from the deadline, as the sweep does, so the breach lands in the right week of the reports
        clock.breached_at = clock.deadline or now
        due = calendar.format_cn_date(clock.due_date)
        history.append(case, actor=None, kind="clock", action="breached", internal=True, now=now,
                       summary=f"{clock_label(clock.kind)}已超期（应于 {due}前完成）",
                       data={"clock_id": clock.id, "clock": clock.kind, "due_date": clock.due_date,
                             "deadline": clock.deadline})


def start(case, start: str, *, on_date: date, now: datetime | None = None) -> list[SlaClock]:
    """Start the case's pending clocks whose definition starts at `start`; counting begins after on_date."""
    now = now or utcnow()
    started = []
    for definition in _definitions(case):
        if definition["start"] != start:
            continue
        clock = _clock(case, definition)
        if clock.state != "pending":
            continue  # a clock starts once; a repeated event does not move it
        if definition.get("after"):
            # counts from the latest of several milestones (overseas treatment: materials, hospital, visa)
            on_date = max([on_date, *milestone_dates(case, definition["after"]).values()])
        clock.state, clock.start_date, clock.started_at, clock.days = "running", on_date, now, definition["days"]
        _recompute(clock)
        started.append(clock)
    db.session.flush()
    return started


def milestone_dates(case, codes) -> dict[str, date]:
    """The business date each of `codes` was reached on, from the case history (milestones not reached left out)."""
    found = {}
    for event in case.events:
        reached = ((event.data or {}).get("milestone") or {}).get("to")
        if reached in codes and reached not in found:
            found[reached] = calendar.to_business_date(event.at)
    return found


def waiting_for(case, clock: SlaClock) -> list[str]:
    """The milestones a pending clock still waits for (its definition's `after`, else its start)."""
    definition = next((d for d in _definitions(case) if d["kind"] == clock.kind), None)
    if definition is None or clock.state != "pending":
        return []
    codes = definition.get("after") or [definition["start"]]
    reached = milestone_dates(case, codes)
    return [code for code in codes if code not in reached]


class StepTime(NamedTuple):
    """One milestone of a case with the working days it took after the previous one (no SLA; auditors see it)."""

    code: str
    label: str
    reached_on: date | None
    working_days: int


def step_times(case, today: date) -> list[StepTime]:
    """Each milestone reached, then the step in progress (its days so far), counted from the request day."""
    from .lines import MILESTONES

    reached = milestone_dates(case, [code for code, _ in MILESTONES.get(case.line_code, [])])
    previous, steps = calendar.to_business_date(case.submitted_at), []
    for code, label in MILESTONES.get(case.line_code, []):
        if code in reached:
            steps.append(StepTime(code, label, reached[code], calendar.working_days_between(previous, reached[code])))
            previous = reached[code]
        elif case.is_open:
            steps.append(StepTime(code, label, None, calendar.working_days_between(previous, today)))
            break
    return steps


def move_start(case, start: str, *, on_date: date) -> list[tuple[SlaClock, date]]:
    """Move the start of the open clocks starting at `start` (a corrected 住院条 date before the booking).

    Returns (clock, old start date) for each clock that moved; the caller records old and new in the history.
    """
    kinds = {d["kind"] for d in _definitions(case) if d["start"] == start}
    moved = []
    for clock in case.clocks:
        if clock.kind in kinds and clock.state in OPEN_STATES and clock.start_date != on_date:
            moved.append((clock, clock.start_date))
            clock.start_date = on_date
            _recompute(clock)
    db.session.flush()
    return moved


def pause(case, *, now: datetime | None = None) -> None:
    """Pause the running clocks while the case waits on the insured (awaiting_documents)."""
    today = calendar.business_today(now)
    for clock in case.clocks:
        if clock.state == "running":
            clock.state, clock.paused_on = "paused", today
    db.session.flush()


def resume(case, *, now: datetime | None = None) -> None:
    """Resume the paused clocks; each moves its due date by the working days it was paused."""
    today = calendar.business_today(now)
    for clock in case.clocks:
        _fold_pause(clock, today)
    db.session.flush()


def stop(case, stop: str, *, now: datetime | None = None) -> list[SlaClock]:
    """Stop the open clocks whose definition stops at `stop`: met by the deadline, else breached."""
    now = now or utcnow()
    kinds = {d["kind"] for d in _definitions(case) if d["stop"] == stop}
    stopped = []
    for clock in case.clocks:
        if clock.kind in kinds and clock.state in OPEN_STATES:
            _fold_pause(clock, calendar.business_today(now))
            _close(case, clock, "met" if now <= clock.deadline else "breached", now)
            stopped.append(clock)
    db.session.flush()
    return stopped


def void(case, *, now: datetime | None = None) -> None:
    """The case ended: every clock not yet stopped stops void, or breached when already past its deadline."""
    now = now or utcnow()
    for clock in case.clocks:
        if clock.state == "stopped":
            continue
        _fold_pause(clock, calendar.business_today(now))
        late = clock.deadline is not None and now > clock.deadline
        _close(case, clock, "breached" if late else "void", now)
    db.session.flush()


@dataclass
class Recomputed:
    """What a calendar change did to the clocks: provisional ones recomputed, due dates moved, outcomes changed."""

    provisional: int = 0
    #: (clock, old due date) of every clock whose due date moved — the insured may need telling (issue 17: i14)
    moved: list = field(default_factory=list)
    #: (clock, old outcome) of stopped clocks whose official deadline turned met ⇄ breached
    outcomes: list = field(default_factory=list)


def _recount_pauses(clock: SlaClock) -> None:
    """Paused working days recounted on today's calendar (clocks from before the pause log keep their count)."""
    if clock.pauses is not None:
        clock.paused_days = sum(calendar.working_days_between(date.fromisoformat(a), date.fromisoformat(b))
                                for a, b in clock.pauses)


def _touches(clock: SlaClock, years: set[int] | None) -> bool:
    if years is None or clock.provisional:
        return True
    last = max(d for d in (clock.due_date, clock.start_date, calendar.business_today(clock.stopped_at)
                           if clock.stopped_at else None) if d is not None)
    return any(clock.start_date.year <= year <= last.year for year in years)


def recompute(years: set[int] | None = None, *, reason: str, now: datetime | None = None) -> Recomputed:
    """Recompute clocks after a calendar change (SPEC §5): running, paused and stopped ones whose count touches
    `years` (all, when None) or rests on an assumed year, paused working days included. A stopped clock whose
    official deadline turns its outcome met ⇄ breached is corrected and the case history says so, with `reason`.
    """
    now = now or utcnow()
    result = Recomputed()
    stmt = (select(SlaClock).where(SlaClock.state.in_((*OPEN_STATES, "stopped")), SlaClock.start_date.is_not(None),
                                   SlaClock.due_date.is_not(None))
            .order_by(SlaClock.id))
    if years is not None:
        stmt = stmt.where(SlaClock.start_date <= date(max(years), 12, 31))
    for clock in db.session.scalars(stmt):
        if clock.state == "stopped" and not _touches(clock, years):
            continue
        was_provisional, old_due = clock.provisional, clock.due_date
        _recount_pauses(clock)
        _recompute(clock)
        if clock.state in OPEN_STATES:
            result.provisional += was_provisional
        if clock.due_date != old_due:
            result.moved.append((clock, old_due))
            if clock.state in OPEN_STATES:
                _tell_moved(clock, old_due)  # the insured hears the new date (issue 14)
        if clock.state == "stopped":
            _correct_outcome(clock, old_due, reason=reason, now=now, result=result)
    db.session.flush()
    return result


def _correct_outcome(clock: SlaClock, old_due: date, *, reason: str, now: datetime, result: Recomputed) -> None:
    """A clock stopped at its milestone: met when stopped by the (new) deadline, else breached."""
    case = clock.case
    stop = next((d["stop"] for d in _definitions(case) if d["kind"] == clock.kind), None)
    if (clock.outcome not in ("met", "breached") or clock.stopped_at is None
            or stop not in milestone_dates(case, [stop])):
        return  # void, or closed with the case rather than at its milestone: nothing to compare
    outcome = "met" if _aware(clock.stopped_at) <= _aware(clock.deadline) else "breached"
    if outcome == clock.outcome:
        return
    old = clock.outcome
    clock.outcome, clock.breached = outcome, outcome == "breached"
    clock.breached_at = clock.deadline if outcome == "breached" else None
    words = {"met": "按时完成", "breached": "超时"}
    history.append(case, actor=None, kind="clock", action="outcome_corrected", internal=True, now=now,
                   summary=f"{clock_label(clock.kind)}结果由“{words[old]}”更正为“{words[outcome]}”："
                           f"{reason}，应完成日期由 {old_due.isoformat()} 改为 {clock.due_date.isoformat()}",
                   data={"clock_id": clock.id, "clock": clock.kind, "from": old, "to": outcome, "reason": reason,
                         "old_due_date": old_due, "due_date": clock.due_date, "deadline": clock.deadline,
                         "stopped_at": clock.stopped_at})
    result.outcomes.append((clock, old))


def _aware(ts: datetime) -> datetime:
    from datetime import UTC

    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def recompute_provisional() -> int:
    """Recompute every clock after a calendar change; returns how many open provisional ones were recomputed."""
    return recompute(reason="节假日安排变更").provisional


def _tell_moved(clock: SlaClock, before: date | None) -> None:
    """A holiday notice moved a promise: the insured hears the new date (issue 14)."""
    from . import notify

    verb = PROMISE_VERBS.get(clock.kind, "为您办理")
    notify.insured(clock.case, "服务时限已调整",
                   f"因国务院节假日安排公布，{clock_label(clock.kind)}按新的工作日重新计算："
                   f"我们将最晚于 {calendar.format_cn_date(clock.due_date)}前{verb}"
                   + (f"（原为 {calendar.format_cn_date(before)}）" if before else "") + "。")


def effective_due_date(clock: SlaClock, today: date) -> date | None:
    """The due date as of today; a paused clock's due date keeps moving while it is paused."""
    if clock.due_date is None:
        return None
    if clock.state == "paused" and clock.paused_on is not None:
        extra = calendar.working_days_between(clock.paused_on, today)
        return calendar.add_working_days(clock.start_date, clock.days + clock.paused_days + extra)
    return clock.due_date


def working_days_left(clock: SlaClock, today: date) -> int:
    """Working days from today to the due date: 0 on the due date, negative when overdue."""
    due = effective_due_date(clock, today)
    if due is None:
        return clock.days
    if today <= due:
        return calendar.working_days_between(today, due)
    return -calendar.working_days_between(due, today)


def current_clock(case) -> SlaClock | None:
    """The first open clock of the case (the promise the insured is waiting on), if any."""
    return next((c for c in case.clocks if c.state in OPEN_STATES and c.due_date is not None), None)


class Promise(NamedTuple):
    """What we promise the insured: the sentence, its date, and whether that date is still provisional (暂定)."""

    text: str
    due_date: date
    provisional: bool


def promise(case) -> Promise | None:
    """E.g. "我们将最晚于 11月28日（周五）前为您安排"; None unless a clock runs (paused = waiting on the insured)."""
    clock = next((c for c in case.clocks if c.state == "running" and c.due_date is not None), None)
    return None if clock is None else promise_of(clock.kind, clock.due_date, clock.provisional)


def promise_of(kind: str, due_date: date, provisional: bool) -> Promise:
    """The promise of a running clock of this kind, due then (lists that read the clock's columns only)."""
    text = f"我们将最晚于 {calendar.format_cn_date(due_date)}前{PROMISE_VERBS.get(kind, '为您办理')}"
    return Promise(text, due_date, bool(provisional))
