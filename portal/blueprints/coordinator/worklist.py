"""The work queue: tabs, filters and keyset pages sorted by the nearest running deadline (issue 5).

Cases with a running clock come first, walked along the (state, deadline) index of sla_clock in its own
order (deadline, then clock id — the rowid every SQLite index ends with), so a page stops after its rows;
then the open cases without one (waiting on the insured, not started, arranged), oldest first, by primary
key. A cursor names the last row shown, so page 2000 costs what page 1 costs.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from flask import abort
from sqlalchemy import and_, bindparam, exists, func, or_, select, text

from ... import calendar
from ...extensions import db
from ...models import OPEN_STATUSES, STATUSES, Alert, Case, InsuredPerson, SlaClock, utcnow
from ...web.labels import DUE_SOON_WORKING_DAYS
from ...web.params import cursor_id

TABS = {"mine": "我的", "unassigned": "未分配", "due_soon": "即将到期", "overdue": "已超时",
        "waiting": "等待客户", "all": "全部"}
PAGE_SIZE = 50
#: statuses whose cases never have a running clock (paused while waiting, stopped once closed)
CLOCKLESS_STATUSES = {"awaiting_documents", "completed", "terminated", "cancelled"}
#: deadline in a cursor: UTC, URL-safe
STAMP = "%Y%m%dT%H%M%S%f"


@dataclass(frozen=True)
class Filters:
    tab: str = "mine"
    line: str = ""
    status: str = ""
    city: str = ""
    assignee: int | None = None
    q: str = ""

    @property
    def narrowed(self) -> bool:
        """Any filter beyond the tab (derived, so a filter added later counts without a second list)."""
        return replace(self, tab=Filters.tab) != Filters()

    def query_args(self, **changes) -> dict:
        """The URL arguments of these filters (empty ones left out)."""
        values = {"tab": self.tab, "line": self.line, "status": self.status, "city": self.city,
                  "assignee": self.assignee, "q": self.q, **changes}
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(slots=True)
class Clock:
    """What a queue row shows of a clock (plain values: the row never touches an ORM object; slots, not
    frozen: seventy of these per page, and a frozen dataclass's __init__ costs a setattr call per field)."""

    id: int
    case_id: int
    kind: str
    state: str
    days: int
    start_date: date | None
    paused_days: int
    paused_on: date | None
    due_date: date | None
    deadline: datetime | None
    provisional: bool
    outcome: str | None = None


@dataclass(slots=True)
class Row:
    """One queue line: the case's columns, its insured's name and ID, and the clock it is sorted by."""

    id: int
    ref: str
    submitted_at: datetime
    line_code: str
    status: str
    milestone: str | None
    city: str | None
    country: str | None
    assignee_id: int | None
    insured_id: int
    insured_name: str
    id_number: str
    id_type: str
    #: the running clock the row is sorted by (None for cases without one)
    clock_id: int | None = None
    clock_deadline: datetime | None = None
    #: every clock of the case (filled by the second statement)
    clocks: list[Clock] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def clock(self) -> Clock | None:
        """The clock shown: the running one it is sorted by, else a paused one."""
        wanted = self.clock_id
        return next((c for c in self.clocks if c.id == wanted), None) if wanted is not None else \
            next((c for c in self.clocks if c.state == "paused"), None)


_CASE_COLUMNS = (Case.id, Case.ref, Case.submitted_at, Case.line_code, Case.status, Case.milestone, Case.city,
                 Case.country, Case.assignee_id, Case.insured_id, InsuredPerson.name.label("insured_name"),
                 InsuredPerson.id_number, InsuredPerson.id_type)
_CLOCK_COLUMNS = (SlaClock.id, SlaClock.case_id, SlaClock.kind, SlaClock.state, SlaClock.days, SlaClock.start_date,
                  SlaClock.paused_days, SlaClock.paused_on, SlaClock.due_date, SlaClock.deadline,
                  SlaClock.provisional, SlaClock.outcome)


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None


def _case_conditions(filters: Filters, user, *, tab: str, bound: bool = False) -> list:
    """The tab's and the filters' conditions on the case; `bound`: named parameters (me, assignee, line,
    status, city) in place of the values, for a statement built once per shape (see _statement)."""
    def value(name: str, actual):
        return bindparam(name) if bound else actual

    conditions = [] if tab == "all" else [Case.status.in_(OPEN_STATUSES)]
    if tab == "mine":
        conditions.append(Case.assignee_id == value("me", None if bound else user.id))
    elif tab == "unassigned":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee is not None:
        conditions.append(Case.assignee_id == value("assignee", filters.assignee))
    if tab == "waiting":
        conditions.append(Case.status == "awaiting_documents")
    if filters.line:
        conditions.append(Case.line_code == value("line", filters.line))
    if filters.status:
        conditions.append(Case.status == value("status", filters.status))
    if filters.city:
        conditions.append(Case.city == value("city", filters.city))
    if filters.q:
        q = filters.q.strip()
        # a reference prefix (as a range, so the unique index serves it), or the insured's exact name
        by_name = select(InsuredPerson.id).where(InsuredPerson.name == q)
        conditions.append(or_(and_(Case.ref >= q.upper(), Case.ref < q.upper() + "\uffff"),
                              Case.insured_id.in_(by_name)))
    return conditions


def _window(tab: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """[from, until) of the nearest deadline on the deadline tabs; (None, None) elsewhere."""
    if tab == "overdue":
        return None, now
    if tab == "due_soon":
        last_day = calendar.add_working_days(calendar.business_today(now), DUE_SOON_WORKING_DAYS)
        return now, calendar.end_of_business_day(last_day) + timedelta(seconds=1)
    return None, None


def _deadline_window(tab: str, now: datetime) -> list:
    """The window as conditions on the running clock."""
    since, until = _window(tab, now)
    return [c for c in (SlaClock.deadline >= since if since else None,
                        SlaClock.deadline < until if until else None) if c is not None]


def _running_query(conditions, window):
    return (select(*_CASE_COLUMNS, SlaClock.id.label("clock_id"), SlaClock.deadline.label("clock_deadline"))
            .select_from(SlaClock).join(Case, SlaClock.case_id == Case.id)
            .join(InsuredPerson, Case.insured_id == InsuredPerson.id)
            .where(SlaClock.state == "running", SlaClock.deadline.is_not(None), *window, *conditions))


def _clockless_query(conditions):
    return (select(*_CASE_COLUMNS).join(InsuredPerson, Case.insured_id == InsuredPerson.id)
            .where(_no_running_clock(), *conditions))


def _no_running_clock():
    # `state || ''` keeps the lookup on the (case_id, kind) index: with the bare column SQLite would
    # walk the (state, deadline) index of every running clock for each case
    return ~exists().where(SlaClock.case_id == Case.id, (SlaClock.state + "") == "running")


def _nearest(row: Row) -> Clock | None:
    running = [c for c in row.clocks if c.state == "running" and c.deadline is not None]
    return min(running, key=lambda c: (c.deadline, c.id)) if running else None


def _is_nearest(row: Row) -> bool:
    """The row's clock is its case's nearest running one (a case with two running clocks is listed once)."""
    nearest = _nearest(row)
    return nearest is not None and nearest.id == row.clock_id


def _parse_cursor(cursor: str | None):
    """("d", deadline, clock_id) | ("n", None, case_id) | None; a malformed or impossible cursor is a 404."""
    if not cursor:
        return None
    part, _, rest = cursor.partition("_")
    if part == "d":
        stamp, _, row_id = rest.partition("_")
        try:
            deadline = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        except ValueError:
            abort(404)
        return "d", deadline, cursor_id(row_id)
    if part == "n":
        return "n", None, cursor_id(rest)
    abort(404)


def _cursor(row: Row) -> str:
    if row.clock_id is not None:
        return f"d_{row.clock_deadline.astimezone(UTC).strftime(STAMP)}_{row.clock_id}"
    return f"n_{row.id}"


def page(filters: Filters, user, *, now: datetime, after: str | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of the tab, nearest deadline first; `after` is the cursor of the previous page's last row."""
    if filters.q:
        return _search(_case_conditions(filters, user, tab=filters.tab), _window(filters.tab, now), size)
    cursor = _parse_cursor(after)
    since, until = _window(filters.tab, now)
    params = {"me": user.id, "assignee": filters.assignee, "line": filters.line, "status": filters.status,
              "city": filters.city, "since": since, "until": until, "after_deadline": cursor[1] if cursor else None,
              "after_id": cursor[2] if cursor else None}
    rows: list[Row] = []
    clockless = filters.tab == "waiting" or filters.status in CLOCKLESS_STATUSES
    if not clockless and (cursor is None or cursor[0] == "d"):
        rows = [Row(*r) for r in db.session.execute(_statement("running", filters, cursor), {**params, "n": size + 1})]
    if len(rows) <= size and filters.tab not in ("due_soon", "overdue"):
        rows += [Row(*r) for r in db.session.execute(_statement("clockless", filters, cursor),
                                                     {**params, "n": size + 1 - len(rows)})]
    _load(rows)
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _cursor(rows[-1]) if more and rows else None
    return Page([row for row in rows if row.clock_id is None or _is_nearest(row)], next_cursor)


#: the page statements, built once per shape (part, tab, which filters are set, cursor kind) with the values as
#: named parameters: building the expression each request cost more than running it
_STATEMENTS: dict[tuple, object] = {}


def _statement(part: str, filters: Filters, cursor):
    key = (part, filters.tab, bool(filters.line), bool(filters.status), bool(filters.city),
           filters.assignee is not None, cursor[0] if cursor else None)
    found = _STATEMENTS.get(key)
    if found is None:
        conditions = _case_conditions(filters, None, tab=filters.tab, bound=True)
        if part == "running":
            since, until = _window(filters.tab, utcnow())
            window = [c for c in (SlaClock.deadline >= bindparam("since") if since else None,
                                  SlaClock.deadline < bindparam("until") if until else None) if c is not None]
            found = _running_query(conditions, window)
            if cursor:
                after, after_id = bindparam("after_deadline"), bindparam("after_id")
                found = found.where(or_(SlaClock.deadline > after,
                                        and_(SlaClock.deadline == after, SlaClock.id > after_id)))
            # ties broken by clock id, not case id: the index already holds that order (ties are common —
            # every clock due the same day has the same deadline), so no sort of the whole day
            found = found.order_by(SlaClock.deadline, SlaClock.id).limit(bindparam("n"))
        else:
            found = _clockless_query(conditions)
            if cursor and cursor[0] == "n":
                found = found.where(Case.id > bindparam("after_id"))
            found = found.order_by(Case.id).limit(bindparam("n"))
        _STATEMENTS[key] = found
    return found


def _search(conditions, window: tuple, size: int) -> Page:
    """A reference or name search matches a handful of cases: one page, sorted here by nearest deadline."""
    query = (select(*_CASE_COLUMNS).join(InsuredPerson, Case.insured_id == InsuredPerson.id)
             .where(*conditions).order_by(Case.id).limit(size))
    rows = [Row(*r) for r in db.session.execute(query)]
    _load(rows)
    for row in rows:
        nearest = _nearest(row)
        row.clock_id, row.clock_deadline = (nearest.id, nearest.deadline) if nearest else (None, None)
    since, until = window
    if since or until:  # the deadline tabs keep only cases whose nearest clock is in their window
        rows = [r for r in rows if r.clock_id is not None and (since is None or r.clock_deadline >= since)
                and (until is None or r.clock_deadline < until)]
    rows.sort(key=lambda r: (0, r.clock_deadline, r.id) if r.clock_id else (1, r.id))
    return Page(rows, None)


def _load(rows: list[Row]) -> None:
    """The clocks of the rows' cases, as plain values, in one statement (no N+1, no ORM objects)."""
    by_case: dict[int, list[Row]] = {}
    for row in rows:  # a case with two running clocks comes once per clock
        by_case.setdefault(row.id, []).append(row)
    if by_case:
        for values in db.session.execute(_CLOCKS, {"cases": list(by_case)}):
            clock = Clock(*values)
            for row in by_case[clock.case_id]:
                row.clocks.append(clock)


_CLOCKS = select(*_CLOCK_COLUMNS).where(SlaClock.case_id.in_(bindparam("cases", expanding=True))).order_by(SlaClock.id)


def counts(filters: Filters, user, *, now: datetime) -> dict[str, int]:
    """How many cases each tab holds under the current filters (the six tabs, in TABS order)."""
    found = {**tab_counts(filters, user), **deadline_counts(filters, user, now=now)}
    return {tab: found[tab] for tab in TABS}


#: tabs counted from the queue_count rollup (domain/queue_counts.py): a sum over a few dozen rows
COUNTED_TABS = ("mine", "unassigned", "waiting", "all")
DEADLINE_TABS = ("due_soon", "overdue")


_OPEN = "status IN (" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"
#: each counted tab as SQL over queue_count (0 = no assignee, "" = no city); "mine" and "unassigned" ignore
#: the assignee filter as _case_conditions does
_TAB_SQL = {"mine": f"{_OPEN} AND assignee_id = :me", "unassigned": f"{_OPEN} AND assignee_id = 0",
            "waiting": "status = 'awaiting_documents'", "all": "1 = 1"}


def tab_counts(filters: Filters, user) -> dict[str, int]:
    """The four tabs that do not depend on the time: one textual statement over the rollup (a sum over a few
    dozen rows, built without the expression machinery); a search counts its handful of cases directly."""
    if filters.q:
        return {tab: db.session.scalar(select(func.count()).select_from(Case)
                                       .where(*_case_conditions(filters, user, tab=tab))) for tab in COUNTED_TABS}
    narrowing = [sql for sql, value in (("line_code = :line", filters.line), ("status = :status", filters.status),
                                        ("city = :city", filters.city)) if value]
    params = {"me": user.id, "line": filters.line, "status": filters.status, "city": filters.city,
              "assignee": filters.assignee}
    key = (filters.assignee is not None, *narrowing)
    statement = _COUNT_STATEMENTS.get(key)
    if statement is None:  # one text per shape (which filters are set), per process
        sums = []
        for tab in COUNTED_TABS:
            condition = _TAB_SQL[tab]
            if filters.assignee is not None and tab not in ("mine", "unassigned"):
                condition += " AND assignee_id = :assignee"
            sums.append(f"COALESCE(SUM(CASE WHEN {condition} THEN n ELSE 0 END), 0)")
        where = f" WHERE {' AND '.join(narrowing)}" if narrowing else ""
        statement = _COUNT_STATEMENTS[key] = text(f"SELECT {', '.join(sums)} FROM queue_count{where}")
    values = db.session.execute(statement, params).one()
    return dict(zip(COUNTED_TABS, (int(v) for v in values), strict=True))


_COUNT_STATEMENTS: dict[tuple, object] = {}


def deadline_counts(filters: Filters, user, *, now: datetime) -> dict[str, int]:
    """即将到期 and 已超时 depend on the time as well as the data: counted from the running clocks, in a
    request of their own (the queue page loads them after it is shown)."""
    result = {}
    for tab in DEADLINE_TABS:
        conditions = _case_conditions(filters, user, tab=tab)
        if not filters.narrowed:
            # a running clock belongs to an open case (closing voids every clock: lifecycle._close), so
            # without filters the clocks alone answer, from the index: no case row read per clock
            query = (select(func.count(func.distinct(SlaClock.case_id)))
                     .where(SlaClock.state == "running", *_deadline_window(tab, now)))
        else:
            query = (select(func.count(func.distinct(Case.id))).select_from(Case)
                     .join(SlaClock, SlaClock.case_id == Case.id)
                     .where(SlaClock.state == "running", *_deadline_window(tab, now), *conditions))
        result[tab] = db.session.scalar(query)
    return result


def city_options() -> list[str]:
    """Cities that occur on cases (for the filter), from the indexed column.

    A loose index scan: one seek on ix_case_city per distinct city (each the smallest above the last),
    where DISTINCT would read the index entry of every case — tens of cities, 100k cases.
    """
    return list(db.session.scalars(_CITIES))


#: the loose index scan as one fixed text (building the recursive CTE in the expression language each request
#: cost more than running it)
_CITIES = text('''WITH RECURSIVE cities(city) AS (
    SELECT (SELECT min(city) FROM "case")
    UNION ALL SELECT (SELECT min(c.city) FROM "case" c WHERE c.city > cities.city) FROM cities
    WHERE cities.city IS NOT NULL)
SELECT city FROM cities WHERE city IS NOT NULL ORDER BY city''')


# ---- alerts raised by the deadline sweep --------------------------------------------------------------------

def _alerts_for(user):
    mine = Alert.recipient_id == user.id
    if user.role == "supervisor":
        mine = or_(mine, Alert.recipient_id.is_(None))
    return mine


def _mine(supervisor: bool):
    """My alerts as a condition on a named parameter `me` (the two statements below are built once)."""
    mine = Alert.recipient_id == bindparam("me")
    return or_(mine, Alert.recipient_id.is_(None)) if supervisor else mine


_UNREAD_COUNT = {supervisor: select(func.count(Alert.id)).where(_mine(supervisor), Alert.read_at.is_(None))
                 for supervisor in (False, True)}
_UNREAD = {supervisor: select(Alert).where(_mine(supervisor), Alert.read_at.is_(None))
           .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(bindparam("n")) for supervisor in (False, True)}


def unread_alert_count(user) -> int:
    return db.session.scalar(_UNREAD_COUNT[user.role == "supervisor"], {"me": user.id})


def alert_count(user, shown: list[Alert], *, limit: int = 20) -> int:
    """How many unread alerts there are, given the newest `limit` of them: those, unless the list is full."""
    return len(shown) if len(shown) < limit else unread_alert_count(user)


def unread_alerts(user, *, limit: int = 20) -> list[Alert]:
    """The newest unread alerts for this user (nulls go to every supervisor)."""
    return list(db.session.scalars(_UNREAD[user.role == "supervisor"], {"me": user.id, "n": limit}))


def alert_for(user, alert_id: int) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.id == alert_id, _alerts_for(user)))
