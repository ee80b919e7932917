"""Database leases: one process at a time runs a scheduled job, on SQLite and PostgreSQL alike (issue 7).

A lease is a `job_lease` row naming its holder until `expires_at`. Taking it is one conditional UPDATE,
then an INSERT ... ON CONFLICT DO NOTHING when the row does not exist yet: both are atomic on either
database (PostgreSQL re-checks the WHERE after a concurrent commit; SQLite serialises writers), so two
processes can never both see `True`. The caller commits right after `acquire` so others see the lease.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import JobLease, utcnow


def dialect_insert(table):
    """INSERT for the session's database, with `on_conflict_do_nothing` (SQLite ≥ 3.24 and PostgreSQL)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def acquire(name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take (or renew) the lease `name` for `ttl` unless another holder's lease is still live."""
    now = now or utcnow()
    table = JobLease.__table__
    taken = db.session.execute(
        update(table)
        .where(table.c.name == name, or_(table.c.expires_at <= now, table.c.holder == holder))
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    if taken:
        return True
    # RETURNING, not rowcount: PostgreSQL's driver reports -1 rows for an INSERT ... ON CONFLICT here
    inserted = db.session.scalar(
        dialect_insert(table).values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"]).returning(table.c.name)
    )
    return inserted is not None


def release(name: str, holder: str, now: datetime | None = None) -> bool:
    """Give the lease back (only its holder can); the row stays with `last_run_at` for the record."""
    now = now or utcnow()
    table = JobLease.__table__
    return bool(db.session.execute(
        update(table).where(table.c.name == name, table.c.holder == holder)
        .values(expires_at=now, last_run_at=now)
    ).rowcount)
