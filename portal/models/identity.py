"""Identity plumbing: one-time registration codes, the outbound message outbox, rate-limit counters."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class RegistrationCode(db.Model):
    """A one-time code sent to the phone on the insurer's register; the account exists only once it is entered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: random, kept in the visitor's session: which pending registration the code page belongs to
    token: Mapped[str] = mapped_column(String(64), unique=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("insured_person.id"), index=True)
    #: scrypt hash of the 6 digits; the digits themselves only travel in the outbox message
    code_hash: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: wrong entries so far; the code dies at MAX_ATTEMPTS
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))


class OutboundMessage(db.Model):
    """One SMS or e-mail to send; the scheduler drains pending rows with retries (portal.outbox)."""

    __table_args__ = (Index("ix_outbound_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sms | email
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: the variables of a provider's approved SMS template (e.g. {"code": "123456"}); the body is the full text
    params: Mapped[dict | None] = mapped_column(db.JSON, default=dict)
    #: registration_code | case_update | alert | ...
    purpose: Mapped[str] = mapped_column(String(40))
    #: pending | sent | failed (failed = gave up after MAX_ATTEMPTS)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the inbox row / alert whose emailed_at is stamped when this message really leaves
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))


class RateLimitCounter(db.Model):
    """A fixed-window counter of Flask-Limiter, shared by every worker through the database."""

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    #: epoch seconds when the window ends
    expires_at: Mapped[float] = mapped_column(Float)
