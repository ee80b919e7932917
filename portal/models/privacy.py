"""Personal information under PIPL (SPEC §7 Consent, Rights): notices, consents, transfers abroad,
retention periods, restrictions and the insured's deletion/restriction requests."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .cases import _refuse

NOTICE_KINDS = {"privacy": "个人信息处理告知书", "cross_border": "个人信息出境告知书"}
CONSENT_CHANNELS = {"portal": "客户自助（网页）", "hotline": "热线口头同意"}


class Notice(db.Model):
    """One version of a notice; a change is a new row (append-only), the newest one in effect rules."""

    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: privacy | cross_border
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int]
    #: business date (Asia/Shanghai) from which this version is the one asked for
    effective_from: Mapped[date]
    title: Mapped[str] = mapped_column(String(120))
    #: the short plain-Chinese summary shown first
    summary: Mapped[str] = mapped_column(Text)
    #: the full text, one tap away
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRecord(db.Model):
    """A consent given or withdrawn (append-only): who, when, which notice, how, and who recorded it."""

    __table_args__ = (Index("ix_consent_record_insured_purpose", "insured_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"))
    #: processing (health data and ID numbers, 单独同意) | cross_border (one recipient of one case)
    purpose: Mapped[str] = mapped_column(String(20))
    #: given | withdrawn
    action: Mapped[str] = mapped_column(String(10))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    #: portal | hotline
    channel: Mapped[str] = mapped_column(String(10))
    #: the insured's own login for the portal; the coordinator who read the notice aloud for the hotline
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    #: cross-border consents: the case, the named recipient and the documents it covers
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id"))
    recipient: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(30))
    #: [{"id": 3, "kind": "ct", "label": "CT 报告"}, ...]
    documents: Mapped[list] = mapped_column(db.JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(300))

    notice = relationship("Notice")


class Transfer(db.Model):
    """Records sent abroad (append-only): recipient, country, documents, time and the consent it rests on."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent_record.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id"))
    recipient: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(30))
    documents: Mapped[list] = mapped_column(db.JSON, default=list)
    #: the action that sent them (choose_provider, hospital_accepted)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    consent = relationship("ConsentRecord")


class RetentionPeriod(db.Model):
    """How long one kind of personal data is kept after its case closed (product data, PIPL art. 19, 47)."""

    __table_args__ = (UniqueConstraint("product_id", "data_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    #: documents | free_text
    data_kind: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(60))
    #: calendar years after the case closed
    years: Mapped[int]
    basis: Mapped[str | None] = mapped_column(String(200))


class Restriction(db.Model):
    """A record placed under restricted processing (append-only): no longer served, never deleted."""

    __table_args__ = (UniqueConstraint("object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: document | case_text
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    #: retention_expired | deletion_request
    reason: Mapped[str] = mapped_column(String(30))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_request.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataRequest(db.Model):
    """An insured person's request to delete or restrict their data, with its recorded outcome."""

    id: Mapped[int] = mapped_column(primary_key=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"), index=True)
    #: deletion | restriction
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    text: Mapped[str | None] = mapped_column(String(500))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: open | granted | refused
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the reason told to the insured, for a grant or a refusal
    outcome_reason: Mapped[str | None] = mapped_column(String(300))

    insured = relationship("InsuredPerson")


#: append-only in the ORM too (the database triggers are in the i15 migration)
APPEND_ONLY = (Notice, ConsentRecord, Transfer, Restriction)
for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
