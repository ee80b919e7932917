"""Signed audit checkpoints and the event hashes each one anchors (SPEC §7 "Audit", issue 16)."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime
from .cases import _refuse


class AuditCheckpoint(db.Model):
    """Checkpoint N: a head hash over checkpoint N-1 and every chain link anchored since, signed (Ed25519).

    Its receipt (portal.domain.checkpoints.receipt) is what 史带 keeps outside 英仕's database."""

    #: the checkpoint number shown to 史带 ("第 N 号校验点")
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: daily | weekly 2026-W47 | cli | ...
    reason: Mapped[str] = mapped_column(String(40))
    previous_head: Mapped[str] = mapped_column(String(64))
    #: cases with a history and events in all histories at issue time
    case_count: Mapped[int]
    event_count: Mapped[int]
    #: length and last hash of the audit-log chain at issue time
    audit_length: Mapped[int]
    audit_tail: Mapped[str] = mapped_column(String(64))
    #: links newly anchored by this checkpoint and sha256 over them (portal.domain.checkpoints.anchors_digest)
    anchored_count: Mapped[int]
    anchors_digest: Mapped[str] = mapped_column(String(64))
    #: highest case_event.id anchored so far (where the incremental check starts)
    event_id_upto: Mapped[int]
    #: PostgreSQL: xmin of a snapshot taken before this checkpoint anchored — every case event it did not see
    #: has xid ≥ this — and the cluster's system identifier the xid count belongs to (portal.domain.
    #: event_watermark); not in the receipt. NULL on SQLite and before migration j21c_event_xid
    event_xid_from: Mapped[int | None] = mapped_column(BigInteger)
    pg_cluster: Mapped[int | None] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(64), unique=True)
    #: sha256 of the raw public key (hex, first 16) and the Ed25519 signature (hex) over the receipt body
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))


class AuditAnchor(db.Model):
    """One chain link as checkpoint `checkpoint_id` saw it: case history (case_id, seq) or audit log (case_id
    NULL, seq). Written once per link, by the first checkpoint after it."""

    __table_args__ = (Index("ix_audit_anchor_case_seq", "case_id", "seq"),
                      # a checkpoint's own anchors, read when it is issued (issue 20: no scan of every anchor)
                      Index("ix_audit_anchor_checkpoint", "checkpoint_id", "case_id", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no foreign key: the anchors are written just before their checkpoint row, in the same transaction
    checkpoint_id: Mapped[int] = mapped_column(index=True)
    #: no foreign key: the anchor must outlive a deleted case, so the deletion can be named
    case_id: Mapped[int | None]
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


for _model in (AuditCheckpoint, AuditAnchor):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
