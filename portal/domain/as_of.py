"""Clocks as they stood at a past instant (issue 17 item 7): a weekly report rebuilt after later events
must equal the first build, so "overdue / at risk at the week's end" cannot read today's clock state.

A clock row holds its state now. What can change after an instant `end` is recorded elsewhere or derivable:
- a breach after `end` (the sweep, a late stop): `breached_at` / `stopped_at` say when;
- a pause or resume after `end`: the case's status history (`case_event`, entries into and exits from
  awaiting_documents, which are what pause and resume the clocks — `lifecycle`), so the paused state and
  the working days folded into the due date before `end` are recomputed from it;
- a stop or a close after `end`: `stopped_at` / `closed_at` (already timestamped in the SQL conditions);
- the case's status at `end`: its last status change before `end`.
Only a change of the past itself (an imported holiday notice recomputing due dates) moves a rebuilt figure.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, union

from .. import calendar
from ..extensions import db
from ..models import STATUSES, Case, CaseEvent, SlaClock
from .batching import chunks

WAITING = "awaiting_documents"


@dataclass
class ClockAtEnd:
    """One live clock's values at `end`."""

    id: int
    case_id: int
    ref: str
    line_code: str
    kind: str
    status: str
    due_date: date | None
    deadline: datetime | None
    paused: bool
    breached_at: datetime | None  # only a breach before `end`
    stopped_at: datetime | None
    overdue: bool
    at_risk: bool


def business_end(end: datetime) -> date:
    """The business date an instant belongs to when it ends a period (a Monday 00:00 → its Sunday)."""
    return calendar.to_business_date(end - timedelta(microseconds=1))


LIVE_STATES = ("running", "paused")


def live_candidates(end: datetime, *, resumed_since: bool = False, due_by: date | None = None,
                    running_from: datetime | None = None):
    """A SELECT of clock ids, a superset of the clocks live at `end` that were (or, for a past `end`, may have
    been) overdue or at risk then — from index range reads whose size follows the clocks due around `end`
    and what happened since, not all clocks (issue 20):
    - not stopped now (running or paused) with a deadline by the at-risk cutoff's end (deadline is always the
      end of the due date's business day), or breached before `end` (a pause after a breach can move the
      deadline later);
    - stopped at or after `end` (live then, whatever they are now);
    - with `resumed_since`: the clocks of cases that left awaiting_documents at or after `end` (a pause
      folded into the due date after `end` moved it later than it stood then).
    With `due_by` (`end` being now), only those due by that date or without a due date (a short list sorted by
    due date), and of the paused ones only the breached: a paused clock is neither overdue by its deadline nor
    at risk now (it paused on or before today); with `running_from`, only running clocks due from then on
    (the at-risk list: none is overdue)."""
    cutoff = calendar.end_of_business_day(calendar.add_working_days(business_end(end), 1))
    if due_by is not None:  # only the clocks due by then (or without a due date) are wanted: a short list
        due_by = calendar.end_of_business_day(due_by)
        running = and_(SlaClock.state == "running", SlaClock.deadline <= min(cutoff, due_by))
        return union(
            select(SlaClock.id).where(running, SlaClock.deadline >= running_from) if running_from is not None
            else select(SlaClock.id).where(running),
            select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.deadline.is_(None)),
            select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.breached_at < end,
                                      or_(SlaClock.deadline <= due_by, SlaClock.deadline.is_(None))),
            select(SlaClock.id).where(SlaClock.stopped_at >= end,
                                      or_(SlaClock.deadline <= due_by, SlaClock.deadline.is_(None))))
    parts = [select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.deadline <= cutoff),
             select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.breached_at < end),
             select(SlaClock.id).where(SlaClock.stopped_at >= end)]
    if resumed_since:
        parts.append(select(SlaClock.id).where(SlaClock.case_id.in_(
            select(CaseEvent.case_id).where(CaseEvent.from_status == WAITING, CaseEvent.at >= end))))
    return union(*parts)


def clocks_at(end: datetime, live_at, also: dict[int, str]) -> tuple[list[ClockAtEnd], dict[int, str]]:
    """The clocks live at `end` (the `live_at(end)` SQL condition) that were overdue or at risk then, and the
    status at `end` of the cases in `also` (case id → status now). Two statements for up to 500 cases.

    Candidates are narrowed in SQL — pauses only ever move a due date later, so a clock whose due date
    today is past the at-risk cutoff, that never breached before `end` and had no pause folded after it,
    was neither — and each candidate is then decided in Python from its case's status history (from its row
    as it is when the case's status has not changed since `end`)."""
    as_of = business_end(end)
    cutoff = calendar.add_working_days(as_of, 1)
    resumed_later = exists().where(CaseEvent.case_id == SlaClock.case_id, CaseEvent.from_status == WAITING,
                                   CaseEvent.at >= end)
    candidates = db.session.execute(
        select(SlaClock.id, SlaClock.case_id, SlaClock.kind, SlaClock.days, SlaClock.state, SlaClock.start_date,
               SlaClock.started_at, SlaClock.paused_on, SlaClock.paused_days, SlaClock.due_date, SlaClock.deadline,
               SlaClock.breached, SlaClock.breached_at, SlaClock.stopped_at, SlaClock.outcome,
               Case.ref, Case.line_code, Case.status)
        .join(Case, SlaClock.case_id == Case.id)
        .where(SlaClock.id.in_(live_candidates(end, resumed_since=True)), live_at(end),
               or_(SlaClock.due_date <= cutoff, SlaClock.deadline < end,
                                 func.coalesce(SlaClock.breached_at, SlaClock.stopped_at) < end,
                                 and_(SlaClock.paused_days > 0, resumed_later)))
    ).all()
    # only the cases whose status changed at or after `end` need their history: for the others what the row
    # holds now is what it held then (no pause, resume or transition since) — an indexed read of what
    # happened since `end`, not of every candidate's whole history (issue 20)
    changed = set(db.session.scalars(
        select(CaseEvent.case_id).where(CaseEvent.from_status.in_(list(STATUSES)), CaseEvent.at >= end,
                                        CaseEvent.to_status.is_not(None),
                                        CaseEvent.from_status != CaseEvent.to_status).distinct()))
    history = _status_changes(sorted(({row.case_id for row in candidates} | set(also)) & changed))
    result = []
    for row in candidates:
        clock = _decide(row, history.get(row.case_id, []), end, as_of, cutoff)
        if clock.overdue or clock.at_risk:
            result.append(clock)
    return result, {case_id: _status_at(history.get(case_id, []), end, now) for case_id, now in also.items()}


def _status_changes(case_ids: list[int]) -> dict[int, list]:
    """Per case, its status changes (at, from, to) in order."""
    found: dict[int, list] = {}
    for chunk in list(chunks(case_ids)) or [[]]:  # one statement even for none: the same count every week
        rows = db.session.execute(
            select(CaseEvent.case_id, CaseEvent.at, CaseEvent.from_status, CaseEvent.to_status)
            .where(CaseEvent.case_id.in_(chunk), CaseEvent.to_status.is_not(None),
                   CaseEvent.from_status.is_distinct_from(CaseEvent.to_status))
            .order_by(CaseEvent.case_id, CaseEvent.seq))
        for case_id, at, before, after in rows:
            found.setdefault(case_id, []).append((at, before, after))
    return found


def _status_at(changes: list, end: datetime, now_status: str | None) -> str | None:
    before_end = [after for at, _, after in changes if at < end]
    if before_end:
        return before_end[-1]
    return (changes[0][1] or now_status) if changes else now_status  # the status before its first change


def _pauses(row, changes: list) -> list[tuple[datetime, datetime | None]]:
    """The clock's pauses as (entered, left or None): the case entering awaiting_documents while the clock
    ran pauses it, leaving resumes it. A clock paused now without such an entry (rows written directly)
    gets its current pause from `paused_on`."""
    pauses, entered = [], None
    for at, before, after in changes:
        if after == WAITING and before != WAITING and row.started_at is not None and row.started_at <= at:
            entered = at
        elif before == WAITING and entered is not None:
            pauses.append((entered, at))
            entered = None
    if entered is not None:
        pauses.append((entered, None))
    elif row.state == "paused" and row.paused_on is not None and not any(left is None for _, left in pauses):
        pauses.append((_start_of(row.paused_on), None))
    return pauses


def _start_of(day: date) -> datetime:
    from .reports import business_start

    return business_start(day)


def _decide(row, changes: list, end: datetime, as_of: date, cutoff: date) -> ClockAtEnd:
    pauses = _pauses(row, changes)
    paused = any(entered < end and (left is None or left >= end) for entered, left in pauses)
    # working days folded into the due date after `end` (pauses that ended then) are taken back out
    later = sum(calendar.working_days_between(calendar.to_business_date(entered), calendar.to_business_date(left))
                for entered, left in pauses if left is not None and left >= end)
    later = min(later, row.paused_days or 0)
    due, deadline = row.due_date, row.deadline
    if later and row.start_date is not None:
        due = calendar.add_working_days(row.start_date, row.days + (row.paused_days or 0) - later)
        deadline = calendar.end_of_business_day(due)
    breach_time = row.breached_at or (row.stopped_at if row.breached or row.outcome == "breached" else None)
    breached_before = breach_time is not None and breach_time < end
    overdue = breached_before or (deadline is not None and deadline < end and not paused)
    at_risk = (not overdue and not paused and deadline is not None and deadline >= end
               and due is not None and due <= cutoff)
    status = _status_at(changes, end, row.status)
    return ClockAtEnd(id=row.id, case_id=row.case_id, ref=row.ref, line_code=row.line_code, kind=row.kind,
                      status=status, due_date=due, deadline=deadline, paused=paused,
                      breached_at=breach_time if breached_before else None,
                      stopped_at=None,  # live at `end`: any stop came later
                      overdue=overdue, at_risk=at_risk)
