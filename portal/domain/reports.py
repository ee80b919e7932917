"""Figures for 史带: per-line case counts, SLA compliance and the immutable weekly report (SPEC §6).

Every figure is taken over a period [start, end) of UTC instants; a week runs from Monday 00:00 to the
next Monday 00:00 Asia/Shanghai, and its "end" is that second Monday 00:00. Per service line:

- opened: cases submitted in the period (`submitted_at`), eligible or not — a not-eligible request
  is opened and terminated (登记备案).
- in progress: cases open at the period's end — submitted before it and not closed before it
  (`closed_at` at or after the end, or never closed and still in an open status).
- completed / terminated / cancelled: cases closed in the period (`closed_at`) with that final status.
- SLA met: clocks stopped in the period (`stopped_at`) with outcome `met`.
- SLA breached: clocks whose breach happened in the period — at `breached_at` (the deadline itself when
  the deadline sweep records it; the stop time when a late stop does; `stopped_at` if neither set it).
  A breach is counted once, in the week it happened, even when the clock stops in a later week.
- compliance: met / (met + breached); None when both are 0.
- overdue at the end: clocks of cases open at the end, not stopped before it, that had breached before
  it or whose deadline had passed while running (a paused clock's deadline does not run).
- at risk at the end: clocks of cases open at the end, started and not stopped before it, not paused,
  whose deadline had not passed, due no later than the first working day after the end's business date
  (≤ 1 working day left, as `sla.working_days_left`).
The weekly report takes the state-at-the-end figures (overdue, at risk, each listed case's status) as they
stood at the week's end — pauses and resumes from the case's status history, breaches by their time
(`as_of.py`, issue 17 item 7) — so a rebuild after later events equals the first build. The SQL conditions
below give the same figures for end = now (the dashboard's live figures), where the clocks' state is current.
"""

import functools
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, insert, literal, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from .. import calendar
from ..extensions import db
from ..models import (
    STATUSES,
    Case,
    CaseEvent,
    FigureRollup,
    ServiceLine,
    SlaClock,
    WeeklyReport,
    utcnow,
)
from . import as_of as week_end
from . import checkpoints, heap, insurer, live_clocks, ratings, rollups
from .as_of import at_risk_at, breach_time, breached, business_end, open_at, overdue_at
from .errors import DomainError
from .product_data import CLOCK_LABELS, LINES

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
COUNTS = ("opened", "in_progress", "completed", "terminated", "cancelled")
SLA = ("met", "breached", "overdue", "at_risk")
#: figures that describe the state at a period's end rather than events within it
AT_END = ("in_progress", "overdue", "at_risk")


@dataclass
class LineFigures:
    """One service line's figures for one period (or the total, code "total")."""

    code: str
    name: str
    opened: int = 0
    in_progress: int = 0
    completed: int = 0
    terminated: int = 0
    cancelled: int = 0
    met: int = 0
    breached: int = 0
    overdue: int = 0
    at_risk: int = 0

    @property
    def compliance(self) -> float | None:
        """Share of clocks met among those met or breached, in percent."""
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None


# ---- weeks -------------------------------------------------------------------------------------

def parse_week(week: str) -> date:
    """The Monday of ISO week "YYYY-Www"; DomainError for anything else."""
    match = _WEEK.match(week or "")
    try:
        if match:
            return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        pass  # e.g. week 53 of a 52-week year
    raise DomainError("周次格式应为 YYYY-Www，例如 2026-W47。", "week")


def week_of(day: date) -> str:
    """ISO week label of a date, e.g. 2026-W47."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def previous_week(now: datetime | None = None) -> str:
    """The ISO week before the current one in Asia/Shanghai."""
    return week_of(calendar.business_today(now) - timedelta(days=7))


business_start = calendar.start_of_business_day


def week_period(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) Asia/Shanghai of an ISO week, in UTC."""
    monday = parse_week(week)
    return business_start(monday), business_start(monday + timedelta(days=7))


# ---- the SQL conditions, one definition each -------------------------------------------------

def _within(column, start, end):
    return and_(column >= start, column < end)


def _case_conditions(start, end) -> dict:
    closed = _within(Case.closed_at, start, end)
    return {
        "opened": _within(Case.submitted_at, start, end),
        "in_progress": open_at(end),
        "completed": and_(closed, Case.status == "completed"),
        "terminated": and_(closed, Case.status == "terminated"),
        "cancelled": and_(closed, Case.status == "cancelled"),
    }


def _clock_conditions(start, end) -> dict:
    return {
        "met": and_(SlaClock.outcome == "met", _within(SlaClock.stopped_at, start, end)),
        "breached": and_(breached(), _within(breach_time(), start, end)),
        "overdue": overdue_at(end),
        "at_risk": at_risk_at(end),
    }


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# ---- figures -----------------------------------------------------------------------------------

def service_lines() -> list[tuple[str, str]]:
    """(code, name) of every line, in product order; the demo product's table when none is stored."""
    rows = db.session.execute(select(ServiceLine.code, ServiceLine.name).order_by(ServiceLine.position,
                                                                                  ServiceLine.id)).all()
    seen = {}
    for code, name in rows or [(spec["code"], spec["name"]) for spec in LINES]:
        seen.setdefault(code, name)
    return list(seen.items())


CLOCK_STATES = ("pending", "running", "paused", "stopped")
WINDOWED = ("opened", "completed", "terminated", "cancelled", "met", "breached")
LIVE = ("overdue", "at_risk")


def period_figures(periods: list[tuple[datetime, datetime]], only: tuple[str, ...] = COUNTS + SLA,
                   now: datetime | None = None) -> list[list[LineFigures]]:
    """Per period, per line figures (those in `only`; the rest stay 0), from the figure rollups (issue 20): the
    windowed figures and "in progress" are sums over `figure_rollup` rows plus the marks of a period's partial
    days (rows with a timestamp in them, indexed); "overdue" and "at risk" at a period's end count the clocks
    of a few bounded index reads (`as_of.live_candidates`), or, for a period ending at `now` (the dashboard),
    are sums over the live clock rollup (`live_clocks`). Never a scan of every case; `scan_figures` gives the
    same from the case and clock rows (the definitions, and the tests' reference)."""
    lines = service_lines()
    result = [{code: LineFigures(code, name) for code, name in lines} for _ in periods]

    def add(index: int, line_code: str, key: str, value: int) -> None:
        if line_code not in result[index]:  # a line no product lists any more: still reported
            for per_line in result:
                per_line[line_code] = LineFigures(line_code, line_code)
        figures = result[index][line_code]
        setattr(figures, key, getattr(figures, key) + value)

    windows = [_days(start, end) for start, end in periods]
    marks: dict = {}  # the marks of each partial piece, read once
    wanted = [key for key in WINDOWED if key in only]
    if wanted:
        first = min(w[0] for w in windows)
        last = max(w[1] for w in windows)
        rows = db.session.execute(select(FigureRollup.line_code, FigureRollup.day, FigureRollup.figure,
                                         FigureRollup.n)
                                  .where(FigureRollup.day >= first, FigureRollup.day < last,
                                         FigureRollup.figure.in_(wanted))).all()
        for index, (day_from, day_to, partials) in enumerate(windows):
            for line_code, day, figure, n in rows:
                if day_from <= day < day_to and n:
                    add(index, line_code, figure, n)
            for since, until in partials:
                if (since, until) not in marks:
                    marks[since, until] = rollups.partial_day(since, until)
                for (line_code, figure), n in marks[since, until].items():
                    if figure in wanted:
                        add(index, line_code, figure, n)
    at_end: dict = {}  # per distinct end, computed once
    if "in_progress" in only:
        for index, (_, end) in enumerate(periods):
            if ("in_progress", end) not in at_end:
                at_end["in_progress", end] = _in_progress(end)
            for (line_code, key), n in at_end["in_progress", end].items():
                add(index, line_code, key, n)
    for key in (k for k in LIVE if k in only):
        for index, (_, end) in enumerate(periods):
            if (key, end) not in at_end:
                at_end[key, end] = live_clocks.counts(now)[key] if end == now else _live_count(key, end)
            for line_code, n in at_end[key, end].items():
                add(index, line_code, key, n)
    return [list(per_line.values()) for per_line in result]


def _days(start: datetime, end: datetime) -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """[start, end) as whole business dates [first, last) and the partial pieces before and after them."""
    first, last = calendar.to_business_date(start), calendar.to_business_date(end)
    partials = []
    if business_start(first) != start:
        first += timedelta(days=1)
        partials.append((start, min(business_start(first), end)))
    if first > last:
        return first, first, partials  # start and end within one day: the one partial piece
    if business_start(last) != end:
        partials.append((business_start(last), end))
    return first, last, partials


def _in_progress(end: datetime) -> dict:
    """{(line, "in_progress"): n} of cases open at `end`: Σ(opened − left) before it."""
    last = calendar.to_business_date(end)
    counts: dict = {}
    rows = db.session.execute(select(FigureRollup.line_code, FigureRollup.figure, func.sum(FigureRollup.n))
                              .where(FigureRollup.day < last, FigureRollup.figure.in_(("opened", "left")))
                              .group_by(FigureRollup.line_code, FigureRollup.figure)).all()
    marks = [((line, figure), int(n)) for line, figure, n in rows]
    if business_start(last) != end:
        marks += list(rollups.partial_day(business_start(last), end).items())
    for (line_code, figure), n in marks:
        if figure in ("opened", "left"):
            key = (line_code, "in_progress")
            counts[key] = counts.get(key, 0) + (n if figure == "opened" else -n)
    return counts


def _live_count(key: str, end: datetime) -> dict[str, int]:
    """{line: clocks overdue (or at risk) at `end`} among the bounded candidates (SQL conditions below)."""
    condition = overdue_at(end) if key == "overdue" else at_risk_at(end)
    rows = db.session.execute(select(Case.line_code, func.count()).select_from(SlaClock)
                              .join(Case, SlaClock.case_id == Case.id)
                              .where(SlaClock.id.in_(week_end.live_candidates(end)), condition)
                              .group_by(Case.line_code)).all()
    return {line_code: int(n) for line_code, n in rows}


def scan_figures(periods: list[tuple[datetime, datetime]], only: tuple[str, ...] = COUNTS + SLA,
                 ) -> list[list[LineFigures]]:
    """`period_figures` computed from scratch over every case and clock (two grouped queries however many
    periods): the definitions themselves, which the rollups must equal (tests)."""
    lines = service_lines()
    result = [{code: LineFigures(code, name) for code, name in lines} for _ in periods]
    for conditions, source in ((_case_conditions, None), (_clock_conditions, SlaClock)):
        columns, keys = [], []
        for index, (start, end) in enumerate(periods):
            for key, condition in conditions(start, end).items():
                if key in only:
                    columns.append(_count(condition))
                    keys.append((index, key))
        if not columns:
            continue
        query = select(Case.line_code, *columns).group_by(Case.line_code)
        if source is not None:
            query = query.select_from(SlaClock).join(Case, SlaClock.case_id == Case.id)
        for line_code, *values in db.session.execute(query):
            for (index, key), value in zip(keys, values, strict=True):
                if line_code not in result[index]:
                    for per_line in result:
                        per_line[line_code] = LineFigures(line_code, line_code)
                setattr(result[index][line_code], key, int(value))
    return [list(per_line.values()) for per_line in result]


def line_stats(start: datetime, end: datetime) -> list[LineFigures]:
    """Per line figures for [start, end), in product line order."""
    return period_figures([(start, end)])[0]


def total(figures: list[LineFigures]) -> LineFigures:
    """The 合计 row of a list of line figures."""
    row = LineFigures("total", "合计")
    for name in (*COUNTS, *SLA):
        setattr(row, name, sum(getattr(f, name) for f in figures))
    return row


CLOCK_COLUMNS = (SlaClock.id, SlaClock.kind, SlaClock.due_date, SlaClock.breached_at, SlaClock.stopped_at,
                 SlaClock.outcome, Case.id.label("case_id"), Case.ref, Case.line_code, Case.status)


def clock_list(condition, *, as_of: date, limit: int | None = None) -> list[dict]:
    """Clocks matching `condition` with their case, as plain dicts: oldest due date first, then by case
    number."""
    query = (select(*CLOCK_COLUMNS).join(Case, SlaClock.case_id == Case.id).where(condition)
             .order_by(SlaClock.due_date, Case.ref, SlaClock.id).limit(limit))
    return _clock_dicts(db.session.execute(query), as_of)


def live_list(kind: str, now: datetime, *, limit: int) -> list[dict]:
    """The dashboard's short lists: the first `limit` clocks overdue (`kind` "overdue") or at risk ("at_risk")
    at `now`, by due date and then by clock (the one waiting longest), as `clock_list` rows."""
    return _clock_dicts(_first_live(kind, limit, now), calendar.business_today(now))


def _clock_dicts(rows, as_of: date) -> list[dict]:
    names = dict(service_lines())
    late = functools.lru_cache(maxsize=None)(calendar.working_days_between)  # few distinct dates, many rows
    return [_clock_dict(row, names, as_of, late) for row in rows]


def _first_live(kind: str, limit: int, now: datetime) -> list:
    """The rows of `live_list`. Each kind of clock that can be on the list is read along its own index in
    (due date, clock) order, and each read stops after `limit` matches or at the end of a bounded range, so a
    short list costs a short read even when thousands of clocks are overdue, due the same day, or none is
    (issue 20):
    - overdue: running clocks past their deadline, along ix_sla_clock_state_deadline (state, deadline, id — a
      deadline is the end of its due date), and the breached ones that are paused or not yet past it (a pause
      folded after the breach moved the deadline);
    - at risk: running clocks due from `now` to the at-risk cutoff, along the same index;
    - both: those without a deadline and those that stop after `now`.
    All but the deadline ranges by their ids first, from the indexes alone: folded into the condition, SQLite's
    planner (with statistics) reads every case submitted before `now` (ix_case_submitted_at; 16 s at 1M)."""
    condition = overdue_at(now) if kind == "overdue" else at_risk_at(now)
    base = select(*CLOCK_COLUMNS).join(Case, SlaClock.case_id == Case.id).where(condition)
    running = base.where(SlaClock.state == "running")
    live = SlaClock.state.in_(week_end.LIVE_STATES)
    if kind == "overdue":
        walks = [running.where(SlaClock.deadline < now)]
        others = [select(SlaClock.id).where(live, SlaClock.breached_at < now,
                                            or_(SlaClock.state == "paused", SlaClock.deadline >= now))]
    else:
        walks = [running.where(SlaClock.deadline >= now, SlaClock.deadline <= week_end.at_risk_cutoff(now))]
        others = []
    others += [select(SlaClock.id).where(live, SlaClock.deadline.is_(None)),
               select(SlaClock.id).where(SlaClock.stopped_at >= now)]
    parts = [*(walk.order_by(SlaClock.deadline, SlaClock.id) for walk in walks),
             *(base.where(SlaClock.id.in_(ids)).order_by(SlaClock.due_date, SlaClock.id) for ids in others)]
    found = {row.id: row for part in parts for row in db.session.execute(part.limit(limit))}
    return sorted(found.values(), key=lambda row: (row.due_date or date.max, row.id))[:limit]


def _clock_dict(row, names: dict, as_of: date, late=calendar.working_days_between) -> dict:
    # working days late: until the clock stopped, or until `as_of` while it still runs
    until = min(calendar.to_business_date(row.stopped_at), as_of) if row.stopped_at else as_of
    return {
        "clock_id": row.id, "case_id": row.case_id, "ref": row.ref, "line_code": row.line_code,
        "line": names.get(row.line_code, row.line_code), "clock": CLOCK_LABELS.get(row.kind, row.kind),
        "due_date": row.due_date.isoformat() if row.due_date else None,
        "breached_at": _iso(row.breached_at or (row.stopped_at if row.outcome == "breached" else None)),
        "stopped_at": _iso(row.stopped_at),
        "days_overdue": late(row.due_date, until) if row.due_date else None,
        "status": STATUSES.get(row.status, row.status), "status_code": row.status,
    }


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


# ---- the weekly report -------------------------------------------------------------------------

def build_weekly(week: str | None = None, *, built_by: str, now: datetime | None = None) -> WeeklyReport:
    """Build the report of an ISO week (default: the previous week of `now`) as a NEW version; flushes.
    Called by the scheduler (Mondays 09:00), `flask report weekly` and nobody else (SPEC §6)."""
    now = now or utcnow()
    week = previous_week(now) if week is None else week
    start, end = week_period(week)
    if start > now:
        raise DomainError(f"{week} 尚未开始，无法生成周报。", "week")
    with heap.frozen():  # tens of thousands of listed clocks at 1M cases
        return _build_weekly(week, start, end, built_by=built_by, now=now)


def _build_weekly(week: str, start: datetime, end: datetime, *, built_by: str, now: datetime) -> WeeklyReport:
    as_of = business_end(end)
    figures = period_figures([(start, end)], only=tuple(f for f in COUNTS + SLA if f not in ("overdue", "at_risk")))[0]
    breaches = clock_list(and_(breached(), _within(breach_time(), start, end), SlaClock.id.in_(union(
        # every state named, so the (state, breached_at) index serves the range
        select(SlaClock.id).where(SlaClock.state.in_(CLOCK_STATES), _within(SlaClock.breached_at, start, end)),
        select(SlaClock.id).where(_within(SlaClock.stopped_at, start, end))))), as_of=as_of)
    at_end, statuses = week_end.clocks_at(end, also={c["case_id"]: c["status_code"] for c in breaches})
    by_line = {f.code: f for f in figures}
    for clock in at_end:
        line = by_line.get(clock.line_code)
        if line is None:
            line = by_line[clock.line_code] = LineFigures(clock.line_code, clock.line_code)
            figures.append(line)
        line.overdue += clock.overdue
        line.at_risk += clock.at_risk
    names = dict(service_lines())
    for row in breaches:  # the case's status at the week's end, not today's
        code = statuses[row["case_id"]]
        row.pop("status_code")
        row["status"] = STATUSES.get(code, code)
    data = {
        "week": week,
        "start_date": calendar.to_business_date(start).isoformat(),
        "end_date": as_of.isoformat(),
        "lines": [{**asdict(f), "compliance": f.compliance} for f in figures],
        "total": {**asdict(total(figures)), "compliance": total(figures).compliance},
        "breaches": breaches,
        "overdue": _at_end_list([c for c in at_end if c.overdue], names, as_of),
        "at_risk": _at_end_list([c for c in at_end if c.at_risk], names, as_of),
        "complete": end <= now,  # False when built before the week was over
        "corrections": outcome_corrections(start, end, names),
        "ratings": rating_rows(start, end),
    }
    report = _add_version(week, built_at=now, built_by=built_by, data=data,
                          checkpoint_id=checkpoints.issue(reason=f"weekly {week}", now=now).id)  # SPEC §6
    insurer.weekly_report(report, now=now)  # sent to 史带: the auditors' inbox, and e-mail with the XLSX
    return report


def outcome_corrections(start: datetime, end: datetime, names: dict) -> list[dict]:
    """Stopped clocks whose outcome a holiday import turned met ⇄ breached in [start, end) (issue 17 item 2)."""
    rows = db.session.execute(select(CaseEvent, Case.ref, Case.line_code).join(Case, Case.id == CaseEvent.case_id)
                              .where(CaseEvent.action == "outcome_corrected", _within(CaseEvent.at, start, end))
                              .order_by(CaseEvent.at, CaseEvent.id)).all()
    return [{"case_id": event.case_id, "ref": ref, "line": names.get(line, line),
             "clock": CLOCK_LABELS.get(event.data.get("clock"), event.data.get("clock")),
             "from": event.data.get("from"), "to": event.data.get("to"),
             "old_due_date": event.data.get("old_due_date"), "due_date": event.data.get("due_date"),
             "reason": event.data.get("reason"), "at": _iso(event.at)} for event, ref, line in rows]


#: concurrent builds of one week each get a version; a build gives up after this many lost races
VERSION_ATTEMPTS = 20


def _add_version(week: str, **fields) -> WeeklyReport:
    """Store the next version of `week`, race-free on both databases (issue 18): the number is taken by the
    INSERT itself (INSERT ... SELECT max + 1: on SQLite under the write lock, so no stale read), and on
    PostgreSQL a concurrent build that took the same number first makes this one, in its own savepoint, take
    the next one (unique (week, version))."""
    table = WeeklyReport.__table__
    values = {name: literal(value, type_=table.c[name].type) for name, value in fields.items()}
    next_version = select(literal(week, type_=table.c.week.type), func.coalesce(func.max(table.c.version), 0) + 1,
                          *values.values()).where(table.c.week == week)
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with db.session.begin_nested():
                report = db.session.scalar(insert(WeeklyReport).from_select(["week", "version", *values],
                                                                            next_version)
                                           .returning(WeeklyReport).options(defer(WeeklyReport.data)))
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS - 1:
                raise
            continue
        # the data is what we hold: not read back (at 1M cases, tens of thousands of listed clocks; issue 20)
        set_committed_value(report, "data", fields["data"])
        return report
    raise AssertionError("unreachable")


def _at_end_list(clocks: list, names: dict, as_of: date) -> list[dict]:
    """The report's rows of clocks as they stood at the week's end, oldest due date first."""
    clocks = sorted(clocks, key=lambda c: (c.due_date or date.max, c.ref, c.id))
    late = functools.lru_cache(maxsize=None)(calendar.working_days_between)  # few distinct dates, many rows
    return [{
        "case_id": c.case_id, "ref": c.ref, "line_code": c.line_code, "line": names.get(c.line_code, c.line_code),
        "clock": CLOCK_LABELS.get(c.kind, c.kind), "due_date": c.due_date.isoformat() if c.due_date else None,
        "breached_at": _iso(c.breached_at), "stopped_at": None,
        "days_overdue": late(c.due_date, as_of) if c.due_date else None,
        "status": STATUSES.get(c.status, c.status),
    } for c in clocks]


def rating_rows(start: datetime, end: datetime) -> list[dict]:
    """服务评价 of the period per line, for the stored report (issue 14)."""
    given = ratings.figures([(start, end)])[0]
    return [{"line_code": code, "line": name, "count": given[code].count if code in given else 0,
             "average": str(given[code].average) if code in given else None,
             "low": given[code].low if code in given else 0} for code, name in service_lines()]


@dataclass(frozen=True)
class Section:
    """One table of a report: the page, the CSV and the XLSX all render these rows."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: list[list]


FIGURE_HEADER = ("服务项目", "新增案件", "进行中", "已完成", "已终止", "已取消",
                 "时效达标", "时效超时", "周末逾期未结", "周末临近时限", "时效达标率(%)")
CORRECTION_HEADER = ("案件编号", "服务项目", "时限", "原结果", "更正为", "原应完成日期", "应完成日期", "原因")
OUTCOME_WORDS = {"met": "按时完成", "breached": "超时"}
RATING_HEADER = ("服务项目", "评价数", "平均分（1–5）", "1–2 分")
CLOCK_HEADER = ("案件编号", "服务项目", "时限", "应完成日期", "超时记录时间", "逾期工作日", "案件状态")


def report_rows(report: WeeklyReport) -> list[Section]:
    """The sections of a stored report, exactly as stored (a snapshot is never recomputed)."""
    data = report.data

    def figure_row(f: dict) -> list:
        return [f["name"], *(f[name] for name in (*COUNTS, "met", "breached", "overdue", "at_risk")),
                f["compliance"]]

    def clock_row(c: dict) -> list:
        return [c["ref"], c["line"], c["clock"], c["due_date"], _shanghai(c["breached_at"]),
                c["days_overdue"], c["status"]]

    return [
        Section("figures", "各服务项目情况", FIGURE_HEADER,
                [figure_row(f) for f in data["lines"]] + [figure_row(data["total"])]),
        Section("breaches", "本周超时明细", CLOCK_HEADER, [clock_row(c) for c in data["breaches"]]),
        Section("overdue", "周末逾期未结案件", CLOCK_HEADER, [clock_row(c) for c in data["overdue"]]),
        Section("at_risk", "周末临近时限案件（剩余 ≤ 1 个工作日）", CLOCK_HEADER,
                [clock_row(c) for c in data["at_risk"]]),
        Section("corrections", "本周时限结果更正（节假日安排变更）", CORRECTION_HEADER,
                [[c["ref"], c["line"], c["clock"], OUTCOME_WORDS.get(c["from"], c["from"]),
                  OUTCOME_WORDS.get(c["to"], c["to"]), c["old_due_date"], c["due_date"], c["reason"]]
                 for c in data.get("corrections", [])]),  # reports built before issue 17 have none
        Section("ratings", "服务评价（本周）", RATING_HEADER,
                [[r["line"], r["count"], r["average"] or "—", r["low"]] for r in data.get("ratings", [])]),
    ]


def _shanghai(iso: str | None) -> str | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")

