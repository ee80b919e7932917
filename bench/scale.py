"""A large data set by copying generated rows in SQL (issue 20: "if generation is too slow").

`copy_up(url, target)` repeats the generated cases and their SLA clocks — ids offset, references suffixed —
until the database holds `target` cases; the copies belong to the same insured people and policies, and carry
no events or documents (the pages and aggregates measured at this size read cases and clocks). The queue's
counter rows and the report figure rollups are recounted afterwards.
"""

import time

from sqlalchemy import func, insert, literal, select, text

from portal import create_app
from portal.domain import queue_counts, rollups
from portal.extensions import db
from portal.models import Case, SlaClock


def _copy(table, offsets: dict, suffix: dict, where) -> None:
    columns = [c for c in table.columns]
    values = []
    for column in columns:
        if column.name in offsets:
            values.append((column + offsets[column.name]).label(column.name))
        elif column.name in suffix:
            values.append((column + literal(suffix[column.name])).label(column.name))
        else:
            values.append(column)
    db.session.execute(insert(table).from_select([c.name for c in columns], select(*values).where(where)))


def copy_up(url: str, target: int) -> dict:
    """Copy cases and clocks until `target` cases; returns counts and seconds."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    started = time.perf_counter()
    with app.app_context():
        base_max = db.session.scalar(select(func.max(Case.id)))
        base_count = db.session.scalar(select(func.count()).select_from(Case))
        clock_max = db.session.scalar(select(func.max(SlaClock.id)))
        copies = max(0, -(-target // base_count) - 1)
        for k in range(1, copies + 1):
            _copy(Case.__table__, {"id": k * base_max}, {"ref": f"-{k}"}, Case.id <= base_max)
            _copy(SlaClock.__table__, {"id": k * clock_max, "case_id": k * base_max}, {},
                  SlaClock.id <= clock_max)
            db.session.commit()
        queue_counts.rebuild(db.session)
        rollups.rebuild(db.session)
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Case))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()
    return {"cases": total, "copies": copies, "seconds": round(time.perf_counter() - started, 1)}
