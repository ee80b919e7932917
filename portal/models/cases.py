"""Cases, their append-only history and their SLA clocks (SPEC §4, §5)."""

from datetime import date, datetime

from sqlalchemy import DDL, BigInteger, FetchedValue, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

STATUSES = {
    "submitted": "已提交",
    "verifying": "核实中",
    "awaiting_documents": "等待补充资料",
    "in_service": "服务中",
    "completed": "已完成",
    "terminated": "已终止",
    "cancelled": "已取消",
}
OPEN_STATUSES = ("submitted", "verifying", "awaiting_documents", "in_service")
CHANNELS = {"portal": "客户自助", "ys_hotline": "英仕热线", "sd_hotline": "史带热线转接"}


class Case(db.Model):
    """One service request of one insured person for one service line."""

    __table_args__ = (
        Index("ix_case_status_line", "status", "line_code"),
        Index("ix_case_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: human reference shown everywhere, e.g. ZJ20261125-0001
    ref: Mapped[str] = mapped_column(String(30), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"), index=True)
    line_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30), default="submitted")
    #: last milestone reached inside in_service (per-line table in portal.domain.lines)
    milestone: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="portal")
    city: Mapped[str | None] = mapped_column(String(30), index=True)
    country: Mapped[str | None] = mapped_column(String(30))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    department: Mapped[str | None] = mapped_column(String(60))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert.id"))
    diagnosis: Mapped[str | None] = mapped_column(String(200))
    illness: Mapped[str | None] = mapped_column(String(60))
    first_diagnosis_date: Mapped[date | None]
    admission_slip_date: Mapped[date | None]
    #: everything else the insured filled in (preferred dates, notes, ...)
    request_data: Mapped[dict] = mapped_column(db.JSON, default=dict)
    #: each eligibility rule with pass/fail and reason, as evaluated at intake
    eligibility: Mapped[list] = mapped_column(db.JSON, default=list)
    #: launch decision of the overseas lines: None until told, then True/False
    launch_decision: Mapped[bool | None]
    termination_reason: Mapped[str | None] = mapped_column(String(40))
    #: the status to return to when the insured has supplied what was asked (awaiting_documents)
    resume_status: Mapped[str | None] = mapped_column(String(30))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: first day of the policy year the entitlement was taken from
    policy_year_start: Mapped[date | None]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: optimistic lock: a stale save raises StaleDataError
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    policy = relationship("Policy")
    insured = relationship("InsuredPerson")
    hospital = relationship("Hospital")
    expert = relationship("Expert")
    assignee = relationship("User", foreign_keys=[assignee_id])
    events: Mapped[list["CaseEvent"]] = relationship(back_populates="case", order_by="CaseEvent.seq")
    clocks: Mapped[list["SlaClock"]] = relationship(back_populates="case", order_by="SlaClock.id")
    documents: Mapped[list["Document"]] = relationship(back_populates="case", order_by="Document.id")
    #: restricted processing of the case's free text (SPEC §7 Rights): an append-only Restriction row
    text_restriction = relationship(
        "Restriction", uselist=False, viewonly=True,
        primaryjoin="and_(foreign(Restriction.object_id) == Case.id, Restriction.object_type == 'case_text')")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def restricted_at(self) -> datetime | None:
        """When the case's free text came under restricted processing (None: it has not)."""
        return self.text_restriction.at if self.text_restriction is not None else None


class CaseEvent(db.Model):
    """Append-only history; each row carries a hash chained to the previous event of its case."""

    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        # the weekly report's bounded reads (issue 20): corrections of a week, resumes after a week's end
        Index("ix_case_event_action_at", "action", "at"),
        Index("ix_case_event_from_status_at", "from_status", "at"),
        # the audit checkpoint's read of what its predecessor did not see (portal.domain.event_watermark)
        Index("ix_case_event_xid", "xid", sqlite_where=text("xid IS NOT NULL"),
              postgresql_where=text("xid IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    #: 1, 2, 3 ... per case; the unique constraint stops two writers forking the chain
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: role at the time (system for the scheduler)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(60))
    #: transition | milestone | note | document | clock | assignment | ...
    kind: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(db.JSON, default=dict)
    #: True for internal notes hidden from the insured
    internal: Mapped[bool] = mapped_column(default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: PostgreSQL: the inserting transaction's id (pg_current_xact_id(), set by the database; not hashed);
    #: NULL on SQLite and for events written before migration j21c_event_xid
    xid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())

    case: Mapped[Case] = relationship(back_populates="events")
    actor = relationship("User")


# PostgreSQL fills case_event.xid (migration j21c_event_xid); the same when a schema comes from create_all
event.listen(CaseEvent.__table__, "after_create", DDL(
    "ALTER TABLE case_event ALTER COLUMN xid SET DEFAULT pg_current_xact_id()::text::bigint").execute_if(
    dialect="postgresql"))
# ... and overrides whatever an INSERT names (migration j21d_event_xid_trigger)
for _ddl in ("CREATE OR REPLACE FUNCTION portal_case_event_xid() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN NEW.xid := pg_current_xact_id()::text::bigint; RETURN NEW; END; $$",
             "CREATE TRIGGER case_event_xid BEFORE INSERT ON case_event FOR EACH ROW "
             "EXECUTE FUNCTION portal_case_event_xid()"):
    event.listen(CaseEvent.__table__, "after_create", DDL(_ddl).execute_if(dialect="postgresql"))


class SlaClock(db.Model):
    """One promise of a case (arrange / decision / report / treatment) with its running deadline."""

    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        # (deadline, id) is the queue's order; case_id makes the deadline-tab counts index-only
        Index("ix_sla_clock_state_deadline", "state", "deadline", "id", "case_id"),
        # the reports' bounded reads (issue 20): stops and breaches of a period (state IN all states), live clocks
        # breached by then
        Index("ix_sla_clock_stopped_at", "stopped_at"),
        Index("ix_sla_clock_state_breached_at", "state", "breached_at"),
        Index("ix_sla_clock_stopped_deadline", "stopped_at", "deadline", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    kind: Mapped[str] = mapped_column(String(20))
    days: Mapped[int]
    #: pending (not started) | running | paused | stopped
    state: Mapped[str] = mapped_column(String(10), default="pending")
    #: business date the count starts after (day itself not counted)
    start_date: Mapped[date | None]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: working days the clock has spent paused (extends the deadline)
    paused_days: Mapped[int] = mapped_column(default=0)
    paused_on: Mapped[date | None]
    #: every finished pause as [paused_on, resumed_on] (ISO dates), so paused_days can be recounted when a
    #: holiday notice changes a year the pause touched (None on clocks older than this column)
    pauses: Mapped[list | None] = mapped_column(db.JSON)
    #: business due date and its instant (23:59:59 Asia/Shanghai), recomputed on every change
    due_date: Mapped[date | None]
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the due date touches a year without official holiday data
    provisional: Mapped[bool] = mapped_column(default=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: met | breached | void (case ended before the milestone) — set when stopped
    outcome: Mapped[str | None] = mapped_column(String(10))
    #: once True never reset (SPEC §5: the breach is recorded forever)
    breached: Mapped[bool] = mapped_column(default=False)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="clocks")


class CaseRefCounter(db.Model):
    """The last case number handed out on one business day (ZJ20261125-0007 → day 20261125, last 7).

    Taken with one upsert … RETURNING, whose row lock serialises simultaneous requests instead of failing them.
    """

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int]


class Document(db.Model):
    """An uploaded file (stored outside static under a random name) or a report issued by 英仕."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    #: medical_record | discharge_summary | blood_test | ct | mri | pathology | admission_slip |
    #: id_document | other | report | report_translation | service_report | bills
    kind: Mapped[str] = mapped_column(String(30))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: pending | accepted | rejected
    review_status: Mapped[str] = mapped_column(String(10), default="pending")
    review_reason: Mapped[str | None] = mapped_column(String(200))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: reports are delivered to the insured and 史带 once this is set
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: soft delete: hidden from lists, kept for the record
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="documents")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
    #: restricted processing (PIPL art. 47): an append-only Restriction row, never a change of this row (a
    #: delivered report is frozen in the database); loaded with the documents of a case in one query
    restriction = relationship(
        "Restriction", uselist=False, viewonly=True, lazy="selectin",
        primaryjoin="and_(foreign(Restriction.object_id) == Document.id, Restriction.object_type == 'document')")

    @property
    def restricted_at(self) -> datetime | None:
        """When the document came under restricted processing: served to nobody but the legal-hold view."""
        return self.restriction.at if self.restriction is not None else None


class DocumentRequest(db.Model):
    """A coordinator's request for more material, shown to the insured until resolved."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kinds: Mapped[list] = mapped_column(db.JSON, default=list)
    reason: Mapped[str] = mapped_column(String(300))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Entitlement(db.Model):
    """Units of one service line for one insured person in one policy year (the ledger balance)."""

    __table_args__ = (UniqueConstraint("insured_id", "line_code", "year_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"))
    line_code: Mapped[str] = mapped_column(String(40))
    year_start: Mapped[date]
    year_end: Mapped[date]
    total: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    consumed: Mapped[int] = mapped_column(default=0)
    #: units left unused when the policy year ended
    lapsed: Mapped[int] = mapped_column(default=0)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def remaining(self) -> int:
        return self.total - self.reserved - self.consumed - self.lapsed


class EntitlementEntry(db.Model):
    """Journal of every ledger movement: reserve, consume, release, lapse."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entitlement_id: Mapped[int] = mapped_column(ForeignKey("entitlement.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    units: Mapped[int] = mapped_column(default=1)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Notification(db.Model):
    """An update in the insured's inbox (and by email when they gave an address)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set for notices that must go out once only (reminders: "reminder:<request id>:<working days>")
    key: Mapped[str | None] = mapped_column(String(120), unique=True)


class FormSubmission(db.Model):
    """The idempotency key of a create form, claimed by the first submission: a repeat (double tap, retry,
    a second POST 31 ms later) finds it and is answered with the first one's result instead of a copy."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: random, put in the form when the page was rendered
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: case | upload
    purpose: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceRating(db.Model):
    """服务评价: the insured's rating of a completed case, once (1–5 and an optional comment)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"), index=True)
    line_code: Mapped[str] = mapped_column(String(40))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an append-only row."""


def _refuse(mapper, connection, target):
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


# append-only: the case history and the insured's ratings (issue 14: a rating is given once, never changed)
for _model in (CaseEvent, ServiceRating):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
