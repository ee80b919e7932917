"""The audit log: reads of sensitive data and changes outside a case's own history (SPEC §7).

One hash chain over the whole log, like a case history (portal.domain.history): each row carries its
sequence number, the previous row's hash and sha256 over its own canonical JSON. Appends are serialised
(PostgreSQL: a transaction-scoped advisory lock; SQLite has one writer anyway, and a lost race on the unique
seq is retried in a savepoint), so two writers never fork the chain."""

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AuditLog, utcnow
from .history import CANONICAL_JSON, ZERO_HASH, _timestamp, jsonable

#: every stored column except id and hash, in this (sorted) JSON
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "case_id",
                 "detail", "ip", "prev_hash")
#: pg_advisory_xact_lock key of the audit-log chain ("i16" + 1)
_LOCK_KEY = 16_001
_ATTEMPTS = 5


def canonical(fields: dict) -> bytes:
    """The canonical JSON of a row's hashed fields."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["at"] = _timestamp(payload["at"])
    return CANONICAL_JSON.encode(payload).encode()


def compute_hash(fields: dict) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def record(action: str, *, actor=None, ip: str | None = None, obj=None, case_id: int | None = None,
           detail: dict | None = None) -> AuditLog:
    """Append one audit row to the chain in the current transaction (flushed); the caller commits. `actor`
    None = the system (CLI, scheduler); `ip` the client address when a request caused it (portal.web.audit
    passes both for the current request)."""
    fields = {
        "at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_role": getattr(actor, "role", "system"),
        "action": action,
        "object_type": type(obj).__name__.lower() if obj is not None else None,
        "object_id": getattr(obj, "id", None),
        "case_id": case_id if case_id is not None else getattr(obj, "case_id", None),
        "detail": jsonable(detail or {}),
        "ip": ip,
    }
    return append(fields)


def append(fields: dict) -> AuditLog:
    """Link `fields` (everything but seq and the hashes) after the current tail; flushes."""
    db.session.flush()  # pending rows first, so an IntegrityError below can only be this row's
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    for attempt in range(_ATTEMPTS):
        try:
            with db.session.begin_nested():
                tail = db.session.execute(select(AuditLog.seq, AuditLog.hash)
                                          .order_by(AuditLog.seq.desc()).limit(1)).first()
                linked = {**fields, "seq": (tail.seq if tail else 0) + 1,
                          "prev_hash": tail.hash if tail else ZERO_HASH}
                entry = AuditLog(**linked, hash=compute_hash(linked))
                db.session.add(entry)
            return entry
        except IntegrityError:
            # SQLite: another process appended between our read of the tail and our write; we hold the write
            # lock now, so the next read sees its row
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class LogBreak:
    """The first audit-log row whose link or hash does not check out."""

    seq: int
    entry_id: int | None
    problem: str


@dataclass(frozen=True)
class LogResult:
    checked: int
    broken: list[LogBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def problem(row, prev_hash: str, expected_seq: int) -> str | None:
    """What is wrong with one audit row given its predecessor, or None."""
    if row["seq"] != expected_seq:
        return f"序号不连续，缺少第 {expected_seq} 条（seq gap: expected {expected_seq}, found {row['seq']}）"
    if row["prev_hash"] != prev_hash:
        return "与上一条记录的链接不符（prev_hash does not match the previous row）"
    if compute_hash(row) != row["hash"]:
        return "记录内容已被改动（hash mismatch: the row was changed after it was written）"
    return None


def rows(after_seq: int = 0):
    """The log's rows as mappings in chain order, straight from the table, streamed."""
    table = AuditLog.__table__
    return db.session.execute(select(*table.c).where(table.c.seq > after_seq).order_by(table.c.seq)
                              .execution_options(yield_per=2000)).mappings()


def verify(*, after_seq: int = 0, prev_hash: str = ZERO_HASH) -> LogResult:
    """Recompute every link and hash of the log (from `after_seq`, whose hash is `prev_hash`)."""
    checked, expected = 0, after_seq + 1
    stream = rows(after_seq)
    try:
        for row in stream:
            checked += 1
            found = problem(row, prev_hash, expected)
            if found:
                return LogResult(checked, [LogBreak(min(expected, row["seq"]), row["id"], found)])
            prev_hash, expected = row["hash"], row["seq"] + 1
    finally:
        stream.close()  # a server-side cursor on PostgreSQL: stopping early must close it
    return LogResult(checked)
