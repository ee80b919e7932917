"""The reports' windowed figures as a rollup (issue 20): one `figure_rollup` row per (line, business date,
figure) holding how many cases or SLA clocks count towards it, changed inside the transaction that writes them.
The dashboard's and the weekly report's figures are sums over these few rows, never over every case.

What a row counts is a *mark*: a (figure, instant) pair a case or a clock carries (`case_marks`,
`clock_marks`), filed under the business date of the instant — exactly the definitions of `reports.py`:
- opened @ submitted_at; completed / terminated / cancelled @ closed_at (closed with that status);
- left @ the later of submitted_at and closed_at (or @ submitted_at for a case neither open nor closed):
  "in progress at E" is then Σ(opened − left) over the days before E;
- met @ stopped_at (outcome met); breached @ breached_at, or stopped_at when the breach has no time of its own.
A period [start, end) from business midnight to business midnight is then a sum over its days; a period ending
at `now` adds the marks of today so far from the rows written today (`today_marks`, indexed reads).

Each transaction remembers, for every case and clock it touches, the marks it had before (none for a new row);
just before the outermost COMMIT it reads the rows as they are then and adds -1 for each old mark, +1 for each
new one. Reading the final rows at commit time keeps a rolled-back savepoint from counting anything; writes
made with Core UPDATEs (the deadline sweep) say which clocks they touched (`touched_clocks`). The upserts run in
key order, so two writers lock rollup rows in the same order and cannot deadlock.

Rows written without the ORM (bulk loads, the benchmark generator) are counted by `rebuild()`.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm.base import NO_VALUE

from .. import calendar
from ..models import OPEN_STATUSES, Case, FigureRollup, SlaClock
from .batching import chunks
from .counter_rows import add_deltas, keep, persisted

CLOSED = ("completed", "terminated", "cancelled")
FIGURES = ("opened", "left", *CLOSED, "met", "breached")
_CASES, _CLOCKS = "rollups.cases", "rollups.clocks"
_CASE_COLUMNS = ("submitted_at", "closed_at", "status")
_CLOCK_COLUMNS = ("outcome", "stopped_at", "breached", "breached_at")


def case_marks(submitted_at: datetime | None, closed_at: datetime | None, status: str | None) -> list[tuple]:
    """The (figure, instant) marks of a case with these values (module docstring)."""
    marks = []
    if submitted_at is not None:
        marks.append(("opened", submitted_at))
    if closed_at is not None:
        if status in CLOSED:
            marks.append((status, closed_at))
        if submitted_at is not None:
            marks.append(("left", max(submitted_at, closed_at)))
    elif submitted_at is not None and status not in OPEN_STATUSES:
        marks.append(("left", submitted_at))
    return marks


def clock_marks(outcome: str | None, stopped_at: datetime | None, breached: bool | None,
                breached_at: datetime | None) -> list[tuple]:
    """The (figure, instant) marks of an SLA clock with these values."""
    marks = []
    if outcome == "met" and stopped_at is not None:
        marks.append(("met", stopped_at))
    if (breached or outcome == "breached") and (breached_at or stopped_at) is not None:
        marks.append(("breached", breached_at or stopped_at))
    return marks


def _keys(line_code: str, marks: Iterable[tuple]) -> list[tuple]:
    return [(line_code, calendar.to_business_date(at), figure) for figure, at in marks]


# ---- kept by the writing transaction ---------------------------------------------------------------

def _before(session, obj, model, columns) -> tuple:
    committed = inspect(obj).committed_state  # the loaded value of each attribute changed since
    values = tuple(committed.get(name, getattr(obj, name, NO_VALUE)) for name in columns)
    if NO_VALUE in values:  # set without being loaded first: the row still holds the old values
        values = tuple(session.execute(select(*(getattr(model, n) for n in columns))
                                       .where(model.id == obj.id)).one())
    return values


def _before_flush(session, *_args) -> None:
    cases, clocks = session.info.setdefault(_CASES, {}), session.info.setdefault(_CLOCKS, {})
    for obj in session.new:
        if isinstance(obj, Case | SlaClock):
            (cases if isinstance(obj, Case) else clocks).setdefault(("new", id(obj)), (obj, []))
    for obj in session.dirty:
        if isinstance(obj, Case) and obj.id not in cases and _changed(obj, _CASE_COLUMNS):
            cases[obj.id] = (None, case_marks(*_before(session, obj, Case, _CASE_COLUMNS)))
        elif isinstance(obj, SlaClock) and obj.id not in clocks and _changed(obj, _CLOCK_COLUMNS):
            clocks[obj.id] = (None, clock_marks(*_before(session, obj, SlaClock, _CLOCK_COLUMNS)))


def _changed(obj, columns) -> bool:
    return not inspect(obj).committed_state.keys().isdisjoint(columns)


def touched_clocks(session, before: dict[int, list]) -> None:
    """Clocks changed by a Core UPDATE (not the ORM), with their marks before it: {clock id: marks}."""
    clocks = session.info.setdefault(_CLOCKS, {})
    for clock_id, marks in before.items():
        clocks.setdefault(clock_id, (None, marks))


def _before_commit(session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # pending changes first: their values are what is committed
    if not session.info.get(_CASES) and not session.info.get(_CLOCKS):
        return
    cases, clocks = persisted(session.info.pop(_CASES, {})), persisted(session.info.pop(_CLOCKS, {}))
    deltas: Counter = Counter()
    for chunk in chunks(sorted(cases)):
        for row in session.execute(select(Case.id, Case.line_code, *(getattr(Case, n) for n in _CASE_COLUMNS))
                                   .where(Case.id.in_(chunk))):
            deltas.subtract(_keys(row.line_code, cases[row.id]))
            deltas.update(_keys(row.line_code, case_marks(*row[2:])))
    for chunk in chunks(sorted(clocks)):
        for row in session.execute(
                select(SlaClock.id, Case.line_code, *(getattr(SlaClock, n) for n in _CLOCK_COLUMNS))
                .join(Case, Case.id == SlaClock.case_id).where(SlaClock.id.in_(chunk))):
            deltas.subtract(_keys(row.line_code, clocks[row.id]))
            deltas.update(_keys(row.line_code, clock_marks(*row[2:])))
    add_deltas(session, FigureRollup.__table__, ("line_code", "day", "figure"), deltas)


keep((_CASES, _CLOCKS), _before_flush, _before_commit)


# ---- reading -----------------------------------------------------------------------------------

def sums(first: date, last: date | None) -> dict[tuple[str, str], int]:
    """{(line, figure): n} over the business dates [first, last) (first None: from the beginning)."""
    from ..extensions import db

    query = select(FigureRollup.line_code, FigureRollup.figure, db.func.sum(FigureRollup.n)).group_by(
        FigureRollup.line_code, FigureRollup.figure)
    if first is not None:
        query = query.where(FigureRollup.day >= first)
    if last is not None:
        query = query.where(FigureRollup.day < last)
    return {(line, figure): int(n) for line, figure, n in db.session.execute(query)}


def partial_day(since: datetime, until: datetime) -> Counter:
    """{(line, figure): n} of the marks in [since, until), a piece of one business date. A piece from the
    date's start (a period ending at `now`: the dashboard's "today so far") is that date's rollup rows less
    the marks after `until` — normally none, so the cost does not follow how busy today is (issue 20); any
    other piece is read from its rows (`today_marks`)."""
    from ..extensions import db

    day = calendar.to_business_date(since)
    if since != calendar.start_of_business_day(day):
        return today_marks(since, until)
    # the marks after `until` first: each statement reads its own snapshot (READ COMMITTED; SQLite's reads
    # outside a write), so a mark committed between the two reads is then counted by the row (a few ms of
    # tomorrow's news at most) instead of taken off a row read before it committed (a figure below any state)
    later = today_marks(until, calendar.start_of_business_day(day + timedelta(days=1)))
    found = Counter({(line, figure): int(n) for line, figure, n in db.session.execute(
        select(FigureRollup.line_code, FigureRollup.figure, FigureRollup.n).where(FigureRollup.day == day))})
    found.subtract(later)
    return +found


def today_marks(since: datetime, until: datetime) -> Counter:
    """{(line, figure): n} of the marks in [since, until) — for the part of a period after its last full day;
    reads only the cases and clocks with a timestamp in it, each set along its own index (a case submitted and
    closed in it is read once)."""
    from ..extensions import db

    def within(column):
        return (column >= since) & (column < until)

    def outside(column):
        return column.is_(None) | (column < since) | (column >= until)

    found: Counter = Counter()
    columns = (Case.line_code, *(getattr(Case, n) for n in _CASE_COLUMNS))
    for condition in (within(Case.submitted_at), within(Case.closed_at) & outside(Case.submitted_at)):
        for line_code, *values in db.session.execute(select(*columns).where(condition)):
            found.update((line_code, figure) for figure, at in case_marks(*values) if since <= at < until)
    columns = (Case.line_code, *(getattr(SlaClock, n) for n in _CLOCK_COLUMNS))
    for condition in (within(SlaClock.stopped_at),
                      SlaClock.state.in_(("pending", "running", "paused", "stopped")) & within(SlaClock.breached_at)
                      & outside(SlaClock.stopped_at)):
        for line_code, *values in db.session.execute(select(*columns).join(Case, Case.id == SlaClock.case_id)
                                                     .where(condition)):
            found.update((line_code, figure) for figure, at in clock_marks(*values) if since <= at < until)
    return found


# ---- from scratch --------------------------------------------------------------------------------

def recount(session) -> Counter:
    """Every (line, day, figure) count recomputed from the case and clock rows, streamed (the reference the
    tests compare the kept rows with, and what `rebuild` stores)."""
    found: Counter = Counter()
    rows = session.execute(select(Case.line_code, *(getattr(Case, n) for n in _CASE_COLUMNS))
                           .execution_options(yield_per=20_000))
    for line_code, *values in rows:
        found.update(_keys(line_code, case_marks(*values)))
    rows = session.execute(select(Case.line_code, *(getattr(SlaClock, n) for n in _CLOCK_COLUMNS))
                           .join(Case, Case.id == SlaClock.case_id)
                           .where((SlaClock.stopped_at.is_not(None)) | (SlaClock.breached_at.is_not(None)))
                           .execution_options(yield_per=20_000))
    for line_code, *values in rows:
        found.update(_keys(line_code, clock_marks(*values)))
    return found


def stored(session) -> Counter:
    """The kept rows as {(line, day, figure): n}, zeros left out."""
    return Counter({(line, day, figure): n for line, day, figure, n in session.execute(
        select(FigureRollup.line_code, FigureRollup.day, FigureRollup.figure, FigureRollup.n)) if n})


def rebuild(session) -> int:
    """Recount every row from the cases and clocks (after a bulk load, or to repair); returns the rows."""
    counts = recount(session)
    session.execute(delete(FigureRollup))
    rows = [dict(line_code=line, day=day, figure=figure, n=n) for (line, day, figure), n in counts.items() if n]
    for chunk in chunks(rows, 5000):
        session.execute(FigureRollup.__table__.insert(), list(chunk))
    return len(rows)
