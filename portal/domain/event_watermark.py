"""Which case events an audit checkpoint must look at: those its predecessor cannot have seen (issue 20).

SQLite: one writer at a time, and the issuer holds the write lock, so every event up to the previous
checkpoint's `event_id_upto` had committed before it and was anchored, and a new row always takes a higher id.

PostgreSQL: an id is taken when a row is inserted, not when it commits, so a transaction can commit a lower id
after a checkpoint; an id watermark would miss it. Instead each case_event records the transaction that inserted
it (`xid`: pg_current_xact_id(), the top-level id, 64-bit and epoch-extended, so it never wraps around), and each
checkpoint stores the xmin of a snapshot taken in its own transaction just before it anchors. A transaction not
finished at that snapshot has an xid ≥ its xmin (a running one by definition of xmin, a later one because xids
only grow), so an event with xid < xmin_N had committed before checkpoint N's anchoring statement looked and
was anchored by N or earlier; checkpoint N+1 therefore reads only events with xid ≥ xmin_N, and of those the
ones without an anchor. Its read also stops below the xmax of its own snapshot (or past its own xid, for
what it wrote itself): a row above that committed after the snapshot — its xid is ≥ the xmin N+1 stores, so
N+2 reads it — or carries another cluster's count (below), which would otherwise be read again every time.

The audit-log chain needs none of this: its appends hold an advisory lock from reading the tail until they
commit (portal.domain.auditlog), so its rows commit in seq order, any snapshot sees a prefix of it, and
`seq > audit_length` of the previous checkpoint is exact on PostgreSQL too.

The xid count belongs to one cluster: a dump restored elsewhere counts from the new cluster's position while
the restored rows keep theirs. So each checkpoint also records the cluster's system identifier, and the
watermark is trusted only on the same cluster (a failover to a streaming replica keeps both); after a
checkpoint without one (issued before migration j21c_event_xid, on another cluster, or by a role that may not
call pg_control_system()) the next checkpoint checks every event against the anchors, once.
"""

from dataclasses import dataclass

from sqlalchemy import and_, select, text, true

from ..extensions import db
from ..models import AuditAnchor, AuditCheckpoint, CaseEvent

_SNAPSHOT = text("SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, "
                 "pg_current_xact_id_if_assigned()::text::bigint, "
                 "has_function_privilege('pg_control_system()', 'EXECUTE') FROM pg_current_snapshot() AS s")


@dataclass(frozen=True)
class Watermark:
    """A snapshot of this transaction: its xmin (what a checkpoint stores), the exclusive upper bound of what
    it can see, and the cluster (None when this role may not read it)."""

    xmin: int
    upper: int
    cluster: int | None


def take() -> Watermark | None:
    """PostgreSQL: a snapshot of the current transaction, taken now (before the anchoring statement); None on
    SQLite, where ids are in commit order."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    xmin, xmax, own, may_read_cluster = db.session.execute(_SNAPSHOT).one()
    return Watermark(xmin, max(xmax, (own or 0) + 1), _cluster() if may_read_cluster else None)


def _cluster() -> int:
    # its own statement: calling pg_control_system() without the privilege fails the whole statement
    return db.session.scalar(text("SELECT system_identifier FROM pg_control_system()"))


def trusted(previous: AuditCheckpoint | None, now: Watermark) -> bool:
    """Whether `previous`'s watermark bounds what it saw, on this cluster."""
    return (previous is not None and previous.event_xid_from is not None and now.cluster is not None
            and previous.pg_cluster == now.cluster and previous.event_xid_from <= now.upper)


def to_anchor(previous: AuditCheckpoint | None, now: Watermark | None):
    """The condition on case_event for what the checkpoint after `previous` reads (None: every event); the
    caller keeps only the events without an anchor."""
    if now is None:
        return CaseEvent.id > (previous.event_id_upto if previous else 0)
    if trusted(previous, now):
        return and_(CaseEvent.xid >= previous.event_xid_from, CaseEvent.xid < now.upper)
    return None


def written_since(last: AuditCheckpoint, now: Watermark | None):
    """The condition on case_event for what may have been written since checkpoint `last` (None: any event);
    on PostgreSQL the caller keeps only the events without an anchor."""
    if now is None:
        return CaseEvent.id > last.event_id_upto
    return CaseEvent.xid >= last.event_xid_from if trusted(last, now) else None


def without_anchor(query, where):
    """`query` (over case_event) narrowed to `where` (None: every event) and to the events without an anchor.

    In a bounded read on PostgreSQL each candidate looks its anchor up by index (LATERAL … LIMIT 1): with a plain
    anti-join the planner hashes every anchor whenever its row estimate for the window is off, as it is just
    after a checkpoint anchored a million links (190 ms instead of 3 ms). The full check is left to the planner."""
    anchor = AuditAnchor.__table__.alias("anchored")
    same = and_(anchor.c.case_id == CaseEvent.case_id, anchor.c.seq == CaseEvent.seq)
    if where is None:
        return query.outerjoin(anchor, same).where(anchor.c.id.is_(None))
    if db.session.get_bind().dialect.name == "postgresql":
        hit = select(anchor.c.id).where(same).limit(1).lateral("hit")
        return query.outerjoin(hit, true()).where(where, hit.c.id.is_(None))
    return query.outerjoin(anchor, same).where(where, anchor.c.id.is_(None))
