"""The work queue's tab counts as a rollup (issue 20): one row per (assignee, status, line, city) holding how
many cases share it, changed inside the very transaction that inserts a case or changes one of those four
columns — so a count is never older than the data, and reading it costs a sum over a few dozen rows
instead of a count over every case.

Each transaction remembers, for every case it touches, the key the case had before (none for a new case);
just before the outermost COMMIT it adds -1 to the old key and +1 to the key the case has then. Reading the
final key at commit time (not per flush) keeps a rolled-back savepoint from counting anything. The upserts
run in key order, so two writers lock counter rows in the same order and cannot deadlock; a row's lock is
held only from there to COMMIT.

Rows written without the ORM (bulk loads, the benchmark generator) are counted by `rebuild()`.
"""

from collections import Counter

from sqlalchemy import delete, func, inspect, literal_column, select, text
from sqlalchemy.orm.base import NO_VALUE

from ..models import Case, QueueCount
from .counter_rows import keep

_TOUCHED = "queue_counts.touched"
KEY = ("assignee_id", "status", "line_code", "city")
_UPSERT = text("INSERT INTO queue_count (assignee_id, status, line_code, city, n) "
               "VALUES (:assignee_id, :status, :line_code, :city, :n) "
               "ON CONFLICT (assignee_id, status, line_code, city) DO UPDATE SET n = queue_count.n + excluded.n")


def _key(values) -> tuple:
    assignee, status, line, city = values
    return (assignee or 0, status, line, city or "")


def _current(case: Case) -> tuple:
    return _key(tuple(getattr(case, name) for name in KEY))


def _before_flush(session, *_args) -> None:
    touched = session.info.setdefault(_TOUCHED, {})
    for case in session.new:
        if isinstance(case, Case) and id(case) not in touched:
            touched[id(case)] = (case, None)
    for case in session.dirty:
        if isinstance(case, Case) and id(case) not in touched:
            committed = inspect(case).committed_state  # the loaded value of each attribute changed since
            before = tuple(committed.get(name, getattr(case, name)) for name in KEY)
            if NO_VALUE in before:  # set without being loaded first: the row still holds the old values
                before = session.execute(select(*(getattr(Case, name) for name in KEY))
                                         .where(Case.id == case.id)).one()
            touched[id(case)] = (case, _key(tuple(before)))
    for case in session.deleted:  # nothing is deleted today; should it ever be, the count follows
        if isinstance(case, Case) and id(case) not in touched:
            touched[id(case)] = (case, _current(case))


def _before_commit(session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # pending changes first: their keys are what is committed
    touched = session.info.pop(_TOUCHED, {})
    deltas: Counter = Counter()
    for case, before in touched.values():
        state = inspect(case)
        if before is not None:
            deltas[before] -= 1
        if state.persistent and not state.deleted:
            deltas[_current(case)] += 1
    for key in sorted(k for k, n in deltas.items() if n):
        session.execute(_UPSERT, dict(zip(KEY, key, strict=True), n=deltas[key]))


keep((_TOUCHED,), _before_flush, _before_commit)


def rebuild(session) -> int:
    """Recount every key from the case rows (after a bulk load, or to repair); returns the number of keys."""
    session.execute(delete(QueueCount))
    # literals, not bound parameters: PostgreSQL matches GROUP BY expressions by their text
    key = (func.coalesce(Case.assignee_id, literal_column("0")), Case.status, Case.line_code,
           func.coalesce(Case.city, literal_column("''")))
    rows = session.execute(select(*key, func.count()).group_by(*key)).all()
    session.execute(QueueCount.__table__.insert(),
                    [dict(zip((*KEY, "n"), row, strict=True)) for row in rows]) if rows else None
    return len(rows)
