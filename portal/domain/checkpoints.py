"""Signed audit checkpoints and verification against the receipts 史带 keeps (SPEC §6, §7 "Audit", §8).

Checkpoint N anchors every chain link written since checkpoint N-1 — each case-history event (case_id, seq,
hash) and each audit-log row (seq, hash) — in `audit_anchor`, and its head hash commits to checkpoint N-1's
head, the digest of those anchors and the chains' lengths and tails. The head is signed with 英仕's Ed25519
key (portal.audit_keys); the signed JSON is the receipt. Because each head covers the previous one, a receipt
for N vouches for every anchor of checkpoints 1..N: verification re-derives the stored checkpoints' heads up to
the receipt's, re-derives each checkpoint's anchors digest, and then compares every anchored link with the
table. Deleting, truncating, editing or re-hashing anything anchored by N is found at its (case, seq).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, and_, cast, func, insert, literal, null, select, text

from .. import audit_keys
from ..extensions import db
from ..models import AuditAnchor, AuditCheckpoint, AuditLog, Case, CaseEvent, utcnow
from . import auditlog, chain_scan, event_watermark
from .history import ZERO_HASH, _problem, _timestamp

RECEIPT_TYPE = "zjjyb-audit-checkpoint"
RECEIPT_VERSION = 1
_ISSUE_LOCK = 16_002  # pg_advisory_xact_lock key (portal.domain.auditlog uses 16_001)


# ---- issuing -------------------------------------------------------------------------------------

def latest() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def issue(*, reason: str, now: datetime | None = None) -> AuditCheckpoint:
    """Anchor every link written since the last checkpoint and sign the new head; flushes, caller commits.

    Called by the scheduler (daily), by every weekly report build and by `flask audit checkpoint`."""
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        # one issuer at a time (an advisory lock needs no UPDATE privilege, which the app role lacks on these
        # tables in production); appends go on: what commits later is anchored by the next checkpoint
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ISSUE_LOCK})
    else:
        # SQLite: take the write lock before reading the last checkpoint, or two issuers (two weekly builds at
        # once) both read the same one and take the same number (a write that matches no row still locks)
        db.session.execute(text("UPDATE audit_checkpoint SET id = id WHERE 0"))
    db.session.flush()
    previous = latest()
    number = (previous.id if previous else 0) + 1
    watermark = event_watermark.take()  # before the anchoring statement: see portal.domain.event_watermark
    _anchor_new_events(number, event_watermark.to_anchor(previous, watermark))
    audit_from = previous.audit_length if previous else 0
    db.session.execute(insert(AuditAnchor).from_select(
        ["checkpoint_id", "case_id", "seq", "hash"],
        select(literal(number), cast(null(), Integer), AuditLog.seq, AuditLog.hash).where(AuditLog.seq > audit_from)))
    digest, count, new_events, new_cases, audit_tail = _digest_of(number)
    upto = db.session.scalar(select(func.max(CaseEvent.id)).join(AuditAnchor, and_(
        AuditAnchor.case_id == CaseEvent.case_id, AuditAnchor.seq == CaseEvent.seq,
        AuditAnchor.checkpoint_id == number))) if new_events else None
    fields = {
        "checkpoint": number,
        "issued_at": _timestamp(now),
        "reason": reason[:40],
        "previous_head": previous.head if previous else ZERO_HASH,
        "case_history": {"cases": (previous.case_count if previous else 0) + new_cases,
                         "events": (previous.event_count if previous else 0) + new_events},
        "audit_log": {"length": audit_tail[0] if audit_tail else audit_from,
                      "tail_hash": audit_tail[1] if audit_tail else (previous.audit_tail if previous else ZERO_HASH)},
        "anchors": {"count": count, "digest": digest},
        "event_id_upto": max(upto or 0, previous.event_id_upto if previous else 0),
    }
    head = head_of(fields)
    key_id = audit_keys.key_id()
    checkpoint = AuditCheckpoint(
        id=number, issued_at=now, reason=fields["reason"], previous_head=fields["previous_head"],
        case_count=fields["case_history"]["cases"], event_count=fields["case_history"]["events"],
        audit_length=fields["audit_log"]["length"], audit_tail=fields["audit_log"]["tail_hash"],
        anchored_count=count, anchors_digest=digest, event_id_upto=fields["event_id_upto"], head=head,
        event_xid_from=watermark.xmin if watermark else None, pg_cluster=watermark.cluster if watermark else None,
        key_id=key_id, signature=audit_keys.sign(_signed_bytes({**fields, "head": head, "key_id": key_id})))
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def _anchor_new_events(number: int, where) -> None:
    """INSERT … SELECT the case events matching `where` (None: all) that have no anchor yet, in one statement.

    `where` bounds the read to what the previous checkpoint cannot have seen (portal.domain.event_watermark:
    ids after its last on SQLite, transactions its snapshot did not see on PostgreSQL), so a checkpoint costs
    what is new (issue 20)."""
    fresh = event_watermark.without_anchor(
        select(literal(number), CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash), where)
    db.session.execute(insert(AuditAnchor).from_select(["checkpoint_id", "case_id", "seq", "hash"], fresh))


def _digest_of(number: int) -> tuple[str, int, int, int, tuple[int, str] | None]:
    """(digest, anchors, case events, new histories, (audit length, tail) or None) of checkpoint `number`."""
    digest = _Digest()
    events, new_cases, tail = 0, 0, None
    for row in db.session.execute(_anchor_query(number, number, audit=False)):
        digest.case(row.case_id, row.seq, row.hash)
        events += 1
        new_cases += row.seq == 1
    for row in db.session.execute(_anchor_query(number, number, audit=True)):
        digest.audit(row.seq, row.hash)
        tail = (row.seq, row.hash)
    return digest.hexdigest(), digest.count, events, new_cases, tail


class _Digest:
    """sha256 over a checkpoint's anchors: case links in (case_id, seq) order, then audit-log rows by seq."""

    def __init__(self):
        self._hash, self.count = hashlib.sha256(), 0

    def case(self, case_id: int, seq: int, link_hash: str) -> None:
        self._hash.update(f"{case_id}:{seq}:{link_hash}\n".encode())
        self.count += 1

    def audit(self, seq: int, link_hash: str) -> None:
        self._hash.update(f"a:{seq}:{link_hash}\n".encode())
        self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _anchor_query(first: int, last: int, *, audit: bool):
    table = AuditAnchor.__table__
    query = select(table.c.checkpoint_id, table.c.case_id, table.c.seq, table.c.hash).where(
        table.c.checkpoint_id.between(first, last))
    if audit:
        return query.where(table.c.case_id.is_(None)).order_by(table.c.seq).execution_options(yield_per=5000)
    return query.where(table.c.case_id.is_not(None)).order_by(table.c.case_id, table.c.seq) \
        .execution_options(yield_per=5000)


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


HEAD_FIELDS = ("checkpoint", "issued_at", "reason", "previous_head", "case_history", "audit_log", "anchors",
               "event_id_upto")


def head_of(fields: dict) -> str:
    """sha256 of the canonical JSON of the head fields."""
    return hashlib.sha256(_canonical({name: fields[name] for name in HEAD_FIELDS})).hexdigest()


def _signed_bytes(body: dict) -> bytes:
    """What the signature covers: the head fields, the head and the key id."""
    return _canonical({name: body[name] for name in (*HEAD_FIELDS, "head", "key_id")})


def fields_of(checkpoint: AuditCheckpoint) -> dict:
    """The head fields of a stored checkpoint, exactly as they were hashed."""
    return {
        "checkpoint": checkpoint.id,
        "issued_at": _timestamp(checkpoint.issued_at),
        "reason": checkpoint.reason,
        "previous_head": checkpoint.previous_head,
        "case_history": {"cases": checkpoint.case_count, "events": checkpoint.event_count},
        "audit_log": {"length": checkpoint.audit_length, "tail_hash": checkpoint.audit_tail},
        "anchors": {"count": checkpoint.anchored_count, "digest": checkpoint.anchors_digest},
        "event_id_upto": checkpoint.event_id_upto,
    }


def receipt(checkpoint: AuditCheckpoint) -> dict:
    """The receipt 史带 keeps: the head fields, head, key id, public key and signature (small JSON)."""
    return {
        "type": RECEIPT_TYPE,
        "version": RECEIPT_VERSION,
        **fields_of(checkpoint),
        "head": checkpoint.head,
        "key_id": checkpoint.key_id,
        "public_key": audit_keys.public_hex(),
        "signature": checkpoint.signature,
    }


def receipt_json(checkpoint: AuditCheckpoint) -> str:
    return json.dumps(receipt(checkpoint), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def anchoring(case_id: int) -> tuple[int, int] | None:
    """(checkpoint number, last anchored seq) of a case's history, or None when nothing is anchored yet."""
    row = db.session.execute(select(func.max(AuditAnchor.checkpoint_id), func.max(AuditAnchor.seq))
                             .where(AuditAnchor.case_id == case_id)).one()
    return None if row[0] is None else (row[0], row[1])


# ---- verifying -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing verification found, with the plain-Chinese sentence shown to 史带."""

    #: receipt | checkpoint | case | audit_log
    where: str
    message: str
    case_id: int | None = None
    case_ref: str | None = None
    seq: int | None = None
    checkpoint: int | None = None


@dataclass
class Verification:
    """The outcome: findings in order of importance (receipt, checkpoint, first case, audit log)."""

    checkpoint: int | None = None
    events_checked: int = 0
    audit_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    broken_cases: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def summary(self) -> str:
        """"校验通过" or the first finding, in plain Chinese."""
        if self.ok:
            scope = f"第 {self.checkpoint} 号校验点之前的全部记录与回执一致，" if self.checkpoint else ""
            return f"校验通过：{scope}共检查案件记录 {self.events_checked} 条、审计日志 {self.audit_checked} 条。"
        return f"校验未通过：{self.first.message}"


class ReceiptError(ValueError):
    """A receipt file that is not a receipt at all."""


def parse_receipt(raw: bytes | str) -> dict:
    """The receipt as a dict, or ReceiptError with a Chinese message."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ReceiptError("文件不是有效的 JSON 回执。") from error
    needed = (*HEAD_FIELDS, "head", "key_id", "signature")
    if not isinstance(data, dict) or data.get("type") != RECEIPT_TYPE or any(name not in data for name in needed):
        raise ReceiptError("文件不是本系统签发的校验点回执。")
    if not isinstance(data["checkpoint"], int) or data["checkpoint"] < 1:
        raise ReceiptError("回执中的校验点编号无效。")
    return data


def check_signature(data: dict) -> str | None:
    """None when the receipt is signed by this installation's key and its head matches its fields."""
    if data["key_id"] != audit_keys.key_id():
        return f"第 {data['checkpoint']} 号回执不是用英仕当前公布的公钥签发的（密钥编号 {data['key_id']}）。"
    try:
        head = head_of(data)
        signed = _signed_bytes(data)
    except (KeyError, TypeError):
        return f"第 {data['checkpoint']} 号回执内容不完整。"
    if head != data["head"] or not audit_keys.signature_valid(signed, str(data["signature"])):
        return f"第 {data['checkpoint']} 号回执的签名无效：回执被改动过，或不是英仕签发的。"
    return None


def verify_receipts(receipts: Iterable[dict]) -> Verification:
    """Check every chain against the receipts 史带 kept (SPEC §8 `audit verify --receipts`).

    Each receipt's signature and its head against the stored checkpoint; then one full pass against the
    newest, whose head vouches for every earlier checkpoint's anchors."""
    receipts = sorted(receipts, key=lambda r: r["checkpoint"])
    if not receipts:
        return verify_stored()
    result = Verification(checkpoint=receipts[-1]["checkpoint"])
    for data in receipts:
        bad = check_signature(data)
        if bad:
            result.findings.append(Finding("receipt", bad, checkpoint=data["checkpoint"]))
            return result
    stored = _stored_chain(receipts[-1]["checkpoint"], result)
    if stored is None:
        return result
    for data in receipts:
        if stored[data["checkpoint"]].head != data["head"]:
            result.findings.append(Finding(
                "checkpoint", f"数据库中的第 {data['checkpoint']} 号校验点与史带保存的回执不符：校验点记录被改写。",
                checkpoint=data["checkpoint"]))
            return result
    _full_pass(receipts[-1]["checkpoint"], stored, result)
    return result


def verify_stored() -> Verification:
    """Check every chain against the newest stored checkpoint (nightly; `audit verify` without receipts).

    Catches everything done without rewriting the checkpoints; only 史带's receipts catch that too."""
    last = latest()
    if last is None:
        result = Verification()
        _full_pass(0, {}, result)
        return result
    return verify_receipts([receipt(last)])


def _stored_chain(upto: int, result: Verification) -> dict[int, AuditCheckpoint] | None:
    """Checkpoints 1..upto whose heads and links re-derive; None (with a finding) at the first that does not."""
    rows = {cp.id: cp for cp in db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.id <= upto))}
    previous = ZERO_HASH
    for number in range(1, upto + 1):
        checkpoint = rows.get(number)
        if checkpoint is None:
            result.findings.append(Finding("checkpoint", f"数据库中缺少第 {number} 号校验点：校验点记录被删除。",
                                           checkpoint=number))
            return None
        if checkpoint.previous_head != previous or head_of(fields_of(checkpoint)) != checkpoint.head:
            result.findings.append(Finding("checkpoint", f"数据库中的第 {number} 号校验点被改写。", checkpoint=number))
            return None
        previous = checkpoint.head
    return rows


def _full_pass(upto: int, stored: dict[int, AuditCheckpoint], result: Verification) -> None:
    """Every case event and audit row against its chain and the anchors of checkpoints 1..upto."""
    digests = {number: _Digest() for number in stored}

    def feed_case(checkpoint: int, case_id: int, seq: int, link_hash: str) -> None:
        digests[checkpoint].case(case_id, seq, link_hash)

    def feed_audit(checkpoint: int, seq: int, link_hash: str) -> None:
        digests[checkpoint].audit(seq, link_hash)

    result.events_checked, cases, cases_missing = chain_scan.scan_cases(upto, feed_case)
    result.audit_checked, audit, audit_missing = chain_scan.scan_audit_log(upto, feed_audit)
    # with anchored links missing the digests cannot add up; the deletions themselves are the findings
    if not (cases_missing or audit_missing):
        for number, checkpoint in sorted(stored.items()):
            digest = digests[number]
            if digest.count != checkpoint.anchored_count or digest.hexdigest() != checkpoint.anchors_digest:
                result.findings.append(Finding(
                    "checkpoint", f"第 {number} 号校验点锚定的记录被删除或改写（与校验点不符）。", checkpoint=number))
                break
    if cases:
        worded = _worded(cases)
        result.findings.append(min(worded.values(), key=lambda f: f.case_id))
        result.broken_cases = len(worded)
    if audit:
        result.findings.append(Finding("audit_log", f"审计日志第 {audit.seq} 条{_what(audit)}。", seq=audit.seq,
                                       checkpoint=audit.checkpoint))


def _what(problem: chain_scan.Problem) -> str:
    if problem.kind == "deleted":
        return f"已被删除（第 {problem.checkpoint} 号校验点已锚定）"
    if problem.kind == "rewritten":
        return f"已被改写（与第 {problem.checkpoint} 号校验点锚定的内容不符）"
    return f"：{problem.message}"


def _worded(found: dict[int, chain_scan.Problem]) -> dict[int, Finding]:
    """Each case's first problem as a finding with its reference and a plain-Chinese sentence."""
    refs = {}
    ids = sorted(found)
    for start in range(0, len(ids), 500):
        refs.update(db.session.execute(select(Case.id, Case.ref).where(Case.id.in_(ids[start:start + 500]))).all())
    return {case_id: Finding("case", f"案件 {refs.get(case_id) or f'（id {case_id}，案件本身已不存在）'} "
                                     f"第 {problem.seq} 条记录{_what(problem)}。",
                             case_id=case_id, case_ref=refs.get(case_id), seq=problem.seq,
                             checkpoint=problem.checkpoint)
            for case_id, problem in found.items()}


def verify_since_latest() -> Verification:
    """What was written since the newest checkpoint: its signature and link, and every newer event and audit
    row chained onto the anchored tails (O(new rows) — on PostgreSQL after a checkpoint without a watermark of
    this cluster, every event against the anchors; the full pass is `verify_stored`)."""
    last = latest()
    if last is None:
        return verify_stored()
    result = Verification(checkpoint=last.id)
    bad = check_signature(receipt(last))
    previous = db.session.get(AuditCheckpoint, last.id - 1) if last.id > 1 else None
    if bad or last.previous_head != (previous.head if previous else ZERO_HASH):
        result.findings.append(Finding("checkpoint", bad or f"第 {last.id} 号校验点与上一个校验点的链接不符。",
                                       checkpoint=last.id))
        return result
    found: dict[int, chain_scan.Problem] = {}
    new = db.session.execute(_written_since(last)).mappings().all()
    before = _predecessors({(row["case_id"], row["seq"] - 1) for row in new if row["seq"] > 1})
    current, prev_hash, expected = None, ZERO_HASH, 1
    for row in new:
        result.events_checked += 1
        if row["case_id"] != current:
            current, expected = row["case_id"], row["seq"]
            prev_hash = before.get((row["case_id"], row["seq"] - 1), ZERO_HASH if row["seq"] == 1 else None)
        if row["case_id"] not in found:
            problem = _problem(row, prev_hash, expected)
            if problem:
                found[row["case_id"]] = chain_scan.Problem(row["seq"], "chain", message=problem)
        prev_hash, expected = row["hash"], row["seq"] + 1
    cases = _worded(found)
    if cases:
        result.findings.append(min(cases.values(), key=lambda f: f.case_id))
        result.broken_cases = len(cases)
    tail = db.session.scalar(select(AuditLog.hash).where(AuditLog.seq == last.audit_length)) \
        if last.audit_length else ZERO_HASH
    if tail != last.audit_tail:
        result.findings.append(Finding("audit_log", f"审计日志第 {last.audit_length} 条已被删除或改写"
                                                    f"（第 {last.id} 号校验点已锚定）。", seq=last.audit_length))
        return result
    log = auditlog.verify(after_seq=last.audit_length, prev_hash=last.audit_tail)
    result.audit_checked = log.checked
    if not log.ok:
        result.findings.append(Finding("audit_log", f"审计日志第 {log.broken[0].seq} 条：{log.broken[0].problem}。",
                                       seq=log.broken[0].seq))
    return result


def _written_since(last: AuditCheckpoint):
    """The case events written since checkpoint `last`, in chain order (portal.domain.event_watermark)."""
    table = CaseEvent.__table__
    watermark = event_watermark.take()
    query = select(*table.c).order_by(table.c.case_id, table.c.seq)
    where = event_watermark.written_since(last, watermark)
    if watermark is None:  # SQLite: every event after the last anchored one is new
        return query.where(where)
    return event_watermark.without_anchor(query, where)  # PostgreSQL: some that `where` admits are anchored


def _predecessors(keys: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Hashes of the given (case_id, seq) events, as stored."""
    found = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 400):
        chunk = ordered[start:start + 400]
        found.update(((row.case_id, row.seq), row.hash) for row in db.session.execute(
            select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).where(
                CaseEvent.case_id.in_({c for c, _ in chunk}), CaseEvent.seq.in_({s for _, s in chunk}))))
    return {key: value for key, value in found.items() if key in keys}
