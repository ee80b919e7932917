"""How many SLA clocks are live now, per (line, state, due date, breached) — the rollup the dashboard's
"overdue" and "at risk" counts at `now` are sums over (issue 20), kept by the writing transaction like
`rollups` (same scheme: each touched clock's key before, its row at COMMIT after; Core writes say which
clocks they touched; upserts in key order).

A clock is counted while it is running or paused. At `now` (`counts`), with the invariants the app keeps —
a deadline is the end of its due date's business day, a running or paused clock has started and belongs to
an open case, a breach is recorded at or after its deadline has passed —:
- overdue = running with a due date before today, or breached (running or paused);
- at risk = running, not breached, due from today to the first working day after it.
These are `reports.overdue_at(now)` / `at_risk_at(now)`; the tests compare them with that definition.
"""

from collections import Counter
from datetime import date, datetime

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm.base import NO_VALUE

from .. import calendar
from ..models import Case, LiveClockCount, SlaClock
from .batching import chunks
from .counter_rows import add_deltas, keep, persisted

LIVE = ("running", "paused")
_TOUCHED = "live_clocks.touched"
_COLUMNS = ("state", "due_date", "breached")


def key(line_code: str, state: str | None, due_date: date | None, breached: bool | None) -> tuple | None:
    if state not in LIVE:
        return None
    return (line_code, state, due_date or date.min, bool(breached))


def _before_flush(session, *_args) -> None:
    touched = session.info.setdefault(_TOUCHED, {})
    for obj in session.new:
        if isinstance(obj, SlaClock):
            touched.setdefault(("new", id(obj)), (obj, None))
    for obj in session.dirty:
        if isinstance(obj, SlaClock) and obj.id not in touched:
            committed = inspect(obj).committed_state
            if committed.keys().isdisjoint(_COLUMNS):
                continue
            values = tuple(committed.get(name, getattr(obj, name, NO_VALUE)) for name in _COLUMNS)
            if NO_VALUE in values:
                values = tuple(session.execute(select(*(getattr(SlaClock, n) for n in _COLUMNS))
                                               .where(SlaClock.id == obj.id)).one())
            touched[obj.id] = (None, values)


def touched(session, before: dict[int, tuple]) -> None:
    """Clocks changed by a Core UPDATE: {clock id: (state, due_date, breached) before it}."""
    found = session.info.setdefault(_TOUCHED, {})
    for clock_id, values in before.items():
        found.setdefault(clock_id, (None, values))


def _before_commit(session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    found = session.info.pop(_TOUCHED, {})
    if not found:
        return
    before = persisted(found)
    deltas: Counter = Counter()
    for chunk in chunks(sorted(before)):
        for row in session.execute(select(SlaClock.id, Case.line_code, *(getattr(SlaClock, n) for n in _COLUMNS))
                                   .join(Case, Case.id == SlaClock.case_id).where(SlaClock.id.in_(chunk))):
            old = before[row.id]
            if old is not None and (k := key(row.line_code, *old)) is not None:
                deltas[k] -= 1
            if (k := key(row.line_code, *row[2:])) is not None:
                deltas[k] += 1
    add_deltas(session, LiveClockCount.__table__, ("line_code", "state", "due_date", "breached"), deltas)


keep((_TOUCHED,), _before_flush, _before_commit)


def counts(now: datetime) -> dict[str, dict[str, int]]:
    """{"overdue": {line: n}, "at_risk": {line: n}} at `now` (module docstring): a sum over a few rows."""
    from ..extensions import db

    today = calendar.business_today(now)
    cutoff = calendar.add_working_days(today, 1)
    found: dict[str, dict[str, int]] = {"overdue": {}, "at_risk": {}}
    for line_code, state, due_date, breached, n in db.session.execute(
            select(LiveClockCount.line_code, LiveClockCount.state, LiveClockCount.due_date, LiveClockCount.breached,
                   LiveClockCount.n).where(LiveClockCount.n != 0)):
        if due_date == date.min and not breached:  # no due date: no deadline to pass
            continue
        if breached or (state == "running" and due_date < today):
            figure = "overdue"
        elif state == "running" and today <= due_date <= cutoff:
            figure = "at_risk"
        else:
            continue
        found[figure][line_code] = found[figure].get(line_code, 0) + n
    return found


def recount(session) -> Counter:
    """The rows from scratch: {(line, state, due_date, breached): n}."""
    rows = session.execute(select(Case.line_code, SlaClock.state, SlaClock.due_date, SlaClock.breached, func.count())
                           .join(Case, Case.id == SlaClock.case_id).where(SlaClock.state.in_(LIVE))
                           .group_by(Case.line_code, SlaClock.state, SlaClock.due_date, SlaClock.breached))
    found: Counter = Counter()
    for line_code, state, due_date, breached, n in rows:
        found[key(line_code, state, due_date, breached)] += n
    return found


def stored(session) -> Counter:
    return Counter({(line, state, due, bool(breached)): n for line, state, due, breached, n in session.execute(
        select(LiveClockCount.line_code, LiveClockCount.state, LiveClockCount.due_date, LiveClockCount.breached,
               LiveClockCount.n)) if n})


def rebuild(session) -> int:
    """Recount every row (after a bulk load, or to repair); returns the rows."""
    rows = [dict(line_code=k[0], state=k[1], due_date=k[2], breached=k[3], n=n)
            for k, n in recount(session).items() if n]
    session.execute(delete(LiveClockCount))
    for chunk in chunks(rows, 5000):
        session.execute(LiveClockCount.__table__.insert(), list(chunk))
    return len(rows)
