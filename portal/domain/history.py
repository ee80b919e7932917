"""The append-only, hash-chained case history (SPEC §4, §7; docs/domain.md "history.py")."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import CaseEvent, utcnow
from .batching import chunks
from .errors import StaleCaseError

ZERO_HASH = "0" * 64
SYSTEM_ROLE, SYSTEM_NAME = "system", "系统"

#: every stored column except id, hash and xid (the inserting transaction, PostgreSQL) goes into the hash,
#: in this (sorted) JSON
HASHED_FIELDS = ("case_id", "seq", "at", "actor_id", "actor_role", "actor_name", "kind", "action",
                 "from_status", "to_status", "summary", "data", "internal", "prev_hash")


@dataclass(frozen=True)
class BrokenLink:
    """The first event of a case whose hash or link does not check out."""

    case_id: int
    seq: int
    event_id: int
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    """How many events were checked and which links are broken (at most one per case)."""

    checked: int
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def jsonable(value):
    """`value` as plain JSON types, so what is hashed is exactly what the JSON column gives back."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _timestamp(ts: datetime) -> str:
    """ISO UTC with microseconds; a naive value is taken as UTC (SQLite drops zones)."""
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.isoformat(timespec="microseconds")


def _aware(ts: datetime) -> datetime:
    """Refuse naive datetimes: their zone is unknown, and the hash needs one meaning."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime given to history.append; pass an aware UTC datetime")
    return ts.astimezone(UTC)


#: json.dumps(…, sort_keys=True, ensure_ascii=False, separators=(",", ":")), built once (verification hashes
#: every row: a JSONEncoder per call costs a third of the time)
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical(fields: dict) -> bytes:
    """The canonical JSON of an event's hashed fields."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["at"] = _timestamp(payload["at"])
    return CANONICAL_JSON.encode(payload).encode()


def compute_hash(fields: dict) -> str:
    """sha256 hex of the canonical JSON."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def append(case, *, actor, kind: str, action: str, summary: str, from_status: str | None = None,
           to_status: str | None = None, data: dict | None = None, internal: bool = False,
           now: datetime | None = None) -> CaseEvent:
    """Append one event to the case's chain and flush; actor None means the system (scheduler)."""
    return append_many([(case, dict(actor=actor, kind=kind, action=action, summary=summary, from_status=from_status,
                                    to_status=to_status, data=data, internal=internal, now=now))])[0]


def append_many(entries: list[tuple]) -> list[CaseEvent]:
    """Append events — (case, keyword arguments of `append`) each, in order, several per case allowed — with
    one read of the chains' tails and one flush (the sweep records hundreds of breaches at once).

    A concurrent append to any of these cases makes the flush fail on unique (case_id, seq): StaleCaseError,
    nothing forked."""
    db.session.flush()  # pending changes first, so an IntegrityError below can only be these events'
    tails = _tails({case.id for case, _ in entries})
    events = []
    for case, args in entries:
        event = _event(case, tails.get(case.id), **args)
        tails[case.id] = event
        db.session.add(event)
        events.append(event)
    try:
        db.session.flush()
    except IntegrityError as error:
        # unique (case_id, seq): another transaction appended first; forking the chain is refused
        raise StaleCaseError() from error
    return events


def _tails(case_ids: set[int]) -> dict:
    """The last event (seq, hash) of each case's chain."""
    tails = {}
    for chunk in chunks(sorted(case_ids)):
        last = (select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq"))
                .where(CaseEvent.case_id.in_(chunk)).group_by(CaseEvent.case_id).subquery())
        tails.update((row.case_id, row) for row in db.session.execute(
            select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash)
            .join(last, (CaseEvent.case_id == last.c.case_id) & (CaseEvent.seq == last.c.seq))))
    return tails


def append_rows(entries: list[tuple[int, dict]]) -> None:
    """`append_many` for the system's bulk writes (the deadline sweep records thousands of breaches): (case id,
    keyword arguments of `append`) each, as one executemany INSERT of plain rows — no ORM objects, the same
    links and hashes. A concurrent append to any of these cases fails on unique (case_id, seq): StaleCaseError,
    nothing forked."""
    db.session.flush()  # pending changes first, so an IntegrityError below can only be these events'
    tails = _tails({case_id for case_id, _ in entries})
    rows = []
    for case_id, args in entries:
        fields = _fields(case_id, tails.get(case_id), **args)
        row = {**fields, "hash": compute_hash(fields)}
        tails[case_id] = _Link(row["seq"], row["hash"])
        rows.append(row)
    if not rows:
        return
    try:
        db.session.execute(insert(CaseEvent.__table__), rows)
    except IntegrityError as error:
        raise StaleCaseError() from error


@dataclass(frozen=True)
class _Link:
    seq: int
    hash: str


def _event(case, last, **args) -> CaseEvent:
    """The next link after `last` (None: the first), hashed."""
    fields = _fields(case.id, last, **args)
    return CaseEvent(**fields, case=case, hash=compute_hash(fields))  # case=: keeps a loaded case.events current


def _fields(case_id: int, last, *, actor, kind: str, action: str, summary: str, from_status: str | None = None,
            to_status: str | None = None, data: dict | None = None, internal: bool = False,
            now: datetime | None = None) -> dict:
    """The fields of the next link after `last` (None: the first), without its hash."""
    return {
        "case_id": case_id,
        "seq": (last.seq if last else 0) + 1,
        "at": _aware(now or utcnow()),
        "actor_id": getattr(actor, "id", None),
        "actor_role": actor.role if actor is not None else SYSTEM_ROLE,
        "actor_name": (actor.display_name if actor is not None else SYSTEM_NAME)[:60],
        "kind": kind,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "summary": summary[:300],
        "data": jsonable(data or {}),
        "internal": bool(internal),
        "prev_hash": last.hash if last else ZERO_HASH,
    }


def verify(case_id: int | None = None) -> VerifyResult:
    """Recompute every hash and link, reading the rows straight from the table (never the identity map)."""
    table = CaseEvent.__table__
    query = select(*table.c).order_by(table.c.case_id, table.c.seq).execution_options(yield_per=1000)
    if case_id is not None:
        query = query.where(table.c.case_id == case_id)
    checked, broken = 0, []
    current, prev_hash, expected_seq, case_broken = None, ZERO_HASH, 1, False
    for row in db.session.execute(query).mappings():
        checked += 1
        if row["case_id"] != current:
            current, prev_hash, expected_seq, case_broken = row["case_id"], ZERO_HASH, 1, False
        problem = _problem(row, prev_hash, expected_seq)
        if problem and not case_broken:
            broken.append(BrokenLink(row["case_id"], row["seq"], row["id"], problem))
            case_broken = True  # later links of the same case follow from the first break
        prev_hash, expected_seq = row["hash"], row["seq"] + 1
    return VerifyResult(checked, broken)


def _problem(row, prev_hash: str, expected_seq: int) -> str | None:
    """What is wrong with one row given its predecessor, or None."""
    if row["seq"] != expected_seq:
        return f"序号不连续，缺少第 {expected_seq} 条（seq gap: expected {expected_seq}, found {row['seq']}）"
    if row["prev_hash"] != prev_hash:
        return "与上一条记录的链接不符（prev_hash does not match the previous event）"
    if compute_hash(row) != row["hash"]:
        return "记录内容已被改动（hash mismatch: the row was changed after it was written）"
    return None


def timeline(case, *, include_internal: bool) -> list[CaseEvent]:
    """The case's events in order; internal notes only for staff (include_internal=True)."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    if not include_internal:
        query = query.where(CaseEvent.internal.is_(False))
    return list(db.session.scalars(query))
