"""What a case arranges: appointments, escorts, visas, bills and escort hours (SPEC §4)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .cases import _refuse


class Appointment(db.Model):
    """A green-channel appointment booked at a directory hospital."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospital.id"))
    department: Mapped[str] = mapped_column(String(60))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(String(300))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: visited | no_show, once known; a correction (OutcomeCorrection, kept forever) sets the corrected value here
    outcome: Mapped[str | None] = mapped_column(String(10))
    #: a rebooking cancels the earlier row instead of deleting it
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hospital = relationship("Hospital")


class EscortAssignment(db.Model):
    """An escort booked for a time window; windows of one escort never overlap."""

    __table_args__ = (Index("ix_escort_assignment_escort_window", "escort_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    escort_id: Mapped[int] = mapped_column(ForeignKey("escort.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    department: Mapped[str | None] = mapped_column(String(60))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: escorted | no_show, once known; corrected like Appointment.outcome
    outcome: Mapped[str | None] = mapped_column(String(10))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    escort = relationship("Escort")
    hospital = relationship("Hospital")


class OutcomeCorrection(db.Model):
    """A recorded visit or escort outcome corrected (issue 14): 已就医 ⇄ 未按时就医, 已陪诊 ⇄ 客户未到, or the
    day the insured was really seen. A new row with its reason, never an edit of the earlier record
    (append-only: ORM and database triggers refuse UPDATE and DELETE)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    escort_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("escort_assignment.id"))
    #: visited | escorted | no_show, before and after
    from_outcome: Mapped[str] = mapped_column(String(10))
    to_outcome: Mapped[str] = mapped_column(String(10))
    #: the day the insured was really seen, when it is not the booked day (None: the booked day)
    served_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(200))
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VisaApplication(db.Model):
    """The medical visa of an overseas-treatment case."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    country: Mapped[str] = mapped_column(String(30))
    applied_on: Mapped[date]
    #: applied | granted | refused
    status: Mapped[str] = mapped_column(String(10), default="applied")
    decided_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bill(db.Model):
    """An overseas medical bill monitored (never paid) by 英仕."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    hospital_name: Mapped[str] = mapped_column(String(120))
    bill_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    #: received | verified | disputed | settled (by the insured or the insurer, never by 英仕)
    status: Mapped[str] = mapped_column(String(12), default="received")
    notes: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: a wrong entry is voided with a reason (and re-entered), never edited or deleted
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))


class EscortHourLog(db.Model):
    """Hours of local escort abroad; the total per case is capped at 40 h (SPEC §4)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    day: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    escort_name: Mapped[str] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: a wrong entry is voided with a reason (and re-entered), never edited or deleted
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))


event.listen(OutcomeCorrection, "before_update", _refuse)
event.listen(OutcomeCorrection, "before_delete", _refuse)
