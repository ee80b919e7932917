"""Clocks as they stood at a past instant (issue 17 item 7): a weekly report rebuilt after later events
must equal the first build, so "overdue / at risk at the week's end" cannot read today's clock state.

A clock row holds its state now. What can change after an instant `end` is recorded elsewhere or derivable:
- a breach after `end` (the sweep, a late stop): `breached_at` / `stopped_at` say when;
- a pause or resume after `end`: the case's status history (`case_event`, entries into and exits from
  awaiting_documents, which are what pause and resume the clocks — `lifecycle`), so the paused state and
  the working days folded into the due date before `end` are recomputed from it;
- a stop or a close after `end`: `stopped_at` / `closed_at` (already timestamped in the SQL conditions);
- the case's status at `end`: its last status change before `end`.
Only a change of the past itself moves a rebuilt figure: an imported holiday notice recomputing due dates, or
a corrected 住院条 date moving a live clock's start (`sla.move_start`).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, union

from .. import calendar
from ..extensions import db
from ..models import OPEN_STATUSES, STATUSES, Case, CaseEvent, SlaClock
from .batching import chunks

WAITING = "awaiting_documents"
_LONG_AGO = datetime.min.replace(tzinfo=UTC)  # the pause of a paused row without a pause date


@dataclass(slots=True)
class ClockAtEnd:
    """One live clock's values at `end`."""

    id: int
    case_id: int
    ref: str
    line_code: str
    kind: str
    status: str
    due_date: date | None
    breached_at: datetime | None  # only a breach before `end`
    overdue: bool
    at_risk: bool


def business_end(end: datetime) -> date:
    """The business date an instant belongs to when it ends a period (a Monday 00:00 → its Sunday)."""
    return calendar.to_business_date(end - timedelta(microseconds=1))


# ---- the clocks at an instant, by their rows as they are now -------------------------------------
# The definitions of `reports.py`'s module docstring as SQL. Exact for an instant whose case has had no
# status change since (a pause, a resume or a transition would have changed the row): for `end` = now, and,
# in the weekly report, for every clock of a case unchanged since the week's end (`clocks_at`).

def open_at(end):
    return and_(Case.submitted_at < end,
                or_(Case.closed_at >= end, and_(Case.closed_at.is_(None), Case.status.in_(OPEN_STATUSES))))


def live_at(end):
    """Clock started and not stopped before `end`, of a case open then."""
    return and_(SlaClock.started_at < end, or_(SlaClock.stopped_at.is_(None), SlaClock.stopped_at >= end),
                open_at(end))


def paused_at(end):
    # a paused row without its pause date (rows written directly) is paused all the same, as `live_clocks`
    # counts it; NULL would otherwise make "not paused" unknown and drop the clock from both lists
    return and_(SlaClock.state == "paused",
                or_(SlaClock.paused_on.is_(None), SlaClock.paused_on <= business_end(end)))


def breach_time():
    return func.coalesce(SlaClock.breached_at, SlaClock.stopped_at)


def breached():
    # coalesce: a running clock has no outcome, and NOT (NULL) would drop it from "not breached"
    return or_(SlaClock.breached.is_(True), func.coalesce(SlaClock.outcome, "") == "breached")


def breached_before(end):
    # a breach flag without a time (rows written directly) is no breach before `end`, as in `_decide`: without
    # the IS NOT NULL the term is NULL, and "not breached before" drops the clock from the at-risk list
    return and_(breached(), breach_time().is_not(None), breach_time() < end)


def overdue_at(end):
    """Clocks overdue at `end`."""
    return and_(live_at(end), or_(breached_before(end), and_(SlaClock.deadline < end, ~paused_at(end))))


def at_risk_at(end):
    """Clocks with ≤ 1 working day left at `end`, not yet overdue."""
    cutoff = calendar.add_working_days(business_end(end), 1)
    # a breach after `end` does not take the clock out of "at risk at `end`" (issue 17 item 7)
    return and_(live_at(end), ~paused_at(end), ~breached_before(end), SlaClock.deadline >= end,
                SlaClock.due_date <= cutoff)


LIVE_STATES = ("running", "paused")


def at_risk_cutoff(end: datetime) -> datetime:
    """The latest deadline of a clock at risk at `end`: the end of the first working day after `end`'s date."""
    return calendar.end_of_business_day(calendar.add_working_days(business_end(end), 1))


def live_candidates(end: datetime):
    """A SELECT of clock ids, a superset of the clocks live at `end` that were overdue or at risk then by
    their rows as they are now (the SQL conditions above; `clocks_at` reads the clocks of the cases changed
    since `end` itself) — from index range reads whose size follows the clocks due around `end` and what
    happened since, not all clocks (issue 20):
    - not stopped now (running or paused) with a deadline by the at-risk cutoff's end (deadline is always the
      end of the due date's business day), or breached before `end` (a pause after a breach can move the
      deadline later);
    - stopped at or after `end` (live then, whatever they are now)."""
    cutoff = at_risk_cutoff(end)
    return union(select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.deadline <= cutoff),
                 select(SlaClock.id).where(SlaClock.state.in_(LIVE_STATES), SlaClock.breached_at < end),
                 select(SlaClock.id).where(SlaClock.stopped_at >= end))


def clocks_at(end: datetime, also: dict[int, str]) -> tuple[list[ClockAtEnd], dict[int, str]]:
    """The clocks live at `end` that were overdue or at risk then, and the status at `end` of the cases in
    `also` (case id → status now).

    A case whose status has not changed since `end` had no pause, resume or transition since, so its clocks'
    rows hold what they held then, up to a breach or stop timestamped later: for those, the SQL conditions
    above decide, over the bounded candidates (`live_candidates`) and returning only the few columns a report
    row shows — one statement, however many clocks are listed (issue 20). The clocks of the cases that did
    change since `end` (an indexed read of what happened since) are read in full and decided in Python from
    their status history (`_decide`)."""
    as_of = business_end(end)
    cutoff = calendar.add_working_days(as_of, 1)
    changed = set(db.session.scalars(
        select(CaseEvent.case_id).where(CaseEvent.from_status.in_(list(STATUSES)), CaseEvent.at >= end,
                                        CaseEvent.to_status.is_not(None),
                                        CaseEvent.from_status != CaseEvent.to_status).distinct()))
    unchanged = db.session.execute(
        select(SlaClock.id, SlaClock.case_id, SlaClock.kind, SlaClock.due_date,
               case((breached_before(end), breach_time())), Case.ref, Case.line_code, Case.status,
               case((overdue_at(end), True), else_=False))
        .join(Case, SlaClock.case_id == Case.id)
        .where(SlaClock.id.in_(live_candidates(end)), or_(overdue_at(end), at_risk_at(end)))).all()
    result = [ClockAtEnd(id=id_, case_id=case_id, ref=ref, line_code=line, kind=kind, status=status,
                         due_date=due, breached_at=breach, overdue=overdue, at_risk=not overdue)
              for id_, case_id, kind, due, breach, ref, line, status, overdue in unchanged
              if case_id not in changed]
    history = _status_changes(sorted(changed))
    for chunk in list(chunks(sorted(changed))) or [[]]:  # one statement even for none: the same count every week
        for row in db.session.execute(
                select(SlaClock.id, SlaClock.case_id, SlaClock.kind, SlaClock.days, SlaClock.state,
                       SlaClock.start_date, SlaClock.started_at, SlaClock.paused_on, SlaClock.paused_days,
                       SlaClock.due_date, SlaClock.deadline, SlaClock.breached, SlaClock.breached_at,
                       SlaClock.stopped_at, SlaClock.outcome, Case.ref, Case.line_code, Case.status)
                .join(Case, SlaClock.case_id == Case.id).where(SlaClock.case_id.in_(chunk), live_at(end))):
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
    elif row.state == "paused" and not any(left is None for _, left in pauses):
        pauses.append((calendar.start_of_business_day(row.paused_on) if row.paused_on else _LONG_AGO, None))
    return pauses


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
    breach = row.breached_at or (row.stopped_at if row.breached or row.outcome == "breached" else None)
    breached_before = breach is not None and breach < end
    overdue = breached_before or (deadline is not None and deadline < end and not paused)
    at_risk = (not overdue and not paused and deadline is not None and deadline >= end
               and due is not None and due <= cutoff)
    status = _status_at(changes, end, row.status)
    return ClockAtEnd(id=row.id, case_id=row.case_id, ref=row.ref, line_code=row.line_code, kind=row.kind,
                      status=status, due_date=due, breached_at=breach if breached_before else None,
                      overdue=overdue, at_risk=at_risk)
