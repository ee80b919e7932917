"""What the counter tables kept by the writing transaction share (`rollups`, `live_clocks`, `queue_counts`): the
session hooks, which touched rows still exist at COMMIT, and adding the deltas to their counter rows."""

from collections import Counter
from collections.abc import Callable

from sqlalchemy import event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def keep(info_keys: tuple[str, ...], before_flush: Callable, before_commit: Callable) -> None:
    """Hook a counter into every session: `before_flush` remembers what each flush touches (under `info_keys`
    in `session.info`), `before_commit` settles it at the outermost COMMIT, and a rollback of the outer
    transaction forgets it (a savepoint's does not: the rows that still exist are read at COMMIT)."""

    def forget(session, *_args) -> None:
        if not session.in_nested_transaction():
            for key in info_keys:
                session.info.pop(key, None)

    event.listen(Session, "before_flush", before_flush)
    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_rollback", forget)


def persisted(touched: dict) -> dict:
    """{row id: values before} of the touched rows that exist now — a row added in a rolled-back savepoint does
    not. Entries without an object (rows changed by a Core UPDATE) are keyed by their id already."""
    found = {}
    for key, (obj, values) in touched.items():
        if obj is None:
            found.setdefault(key, values)
        elif inspect(obj).persistent:
            found.setdefault(obj.id, values)
    return found


def add_deltas(session, table, key_columns: tuple[str, ...], deltas: Counter) -> None:
    """Add each non-zero delta to its row of `table` (created when new), in key order, so that two commits
    touching the same rows lock them in the same order."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key in sorted(k for k, n in deltas.items() if n):
        statement = insert(table).values(**dict(zip(key_columns, key, strict=True)), n=deltas[key])
        session.execute(statement.on_conflict_do_update(index_elements=list(key_columns),
                                                        set_={"n": table.c.n + statement.excluded.n}))
