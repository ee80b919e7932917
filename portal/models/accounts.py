"""Policies, insured people and user accounts."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

ROLES = ("insured", "coordinator", "supervisor", "auditor", "auditor_admin")
#: 史带's own accounts: only an auditor_admin (or the CLI) creates, resets or deactivates them
AUDITOR_ROLES = ("auditor", "auditor_admin")
STAFF_ROLES = ("coordinator", "supervisor")
ID_TYPES = {
    "id_card": "居民身份证",
    "passport": "护照",
    "hk_macau_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
}


class Policy(db.Model):
    """A policy of the insurer's register (imported by CSV)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_no: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    holder_name: Mapped[str] = mapped_column(String(60))
    #: first day of cover; policy years run from its anniversaries
    start_date: Mapped[date]
    #: last day of cover (inclusive)
    end_date: Mapped[date]
    waiting_days: Mapped[int] = mapped_column(default=90)
    #: active | suspended | cancelled
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product = relationship("Product")
    insured: Mapped[list["InsuredPerson"]] = relationship(back_populates="policy")


class InsuredPerson(db.Model):
    """A person covered by a policy; identity is name + ID type + ID number."""

    __table_args__ = (
        UniqueConstraint("policy_id", "id_type", "id_number"),
        Index("ix_insured_person_id_number", "id_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    name: Mapped[str] = mapped_column(String(60))
    id_type: Mapped[str] = mapped_column(String(20), default="id_card")
    id_number: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(120))

    policy: Mapped[Policy] = relationship(back_populates="insured")


class User(UserMixin, db.Model):
    """A login. Insured users are bound to one InsuredPerson; staff and auditors are not."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    display_name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    insured_id: Mapped[int | None] = mapped_column(ForeignKey("insured_person.id"), unique=True)
    #: deactivated accounts cannot log in; nothing is deleted
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: bumped by logout, a password change, deactivation or a role change: every session carrying an older
    #: value is refused on its next request, in every process (portal.web.sessions)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    insured: Mapped[InsuredPerson | None] = relationship()

    def get_id(self) -> str:
        """What the session stores: the id and the session generation (Flask-Login's alternative token)."""
        return f"{self.id}.{self.session_generation or 0}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


#: a change to any of these ends every session of the user (issue 13: revocable sessions)
SESSION_ENDING = ("password_hash", "role", "active")


def _end_sessions_on_change(session, _context, _instances) -> None:
    """Before each flush: a user whose password, role or active flag changed gets a new session generation."""
    for obj in session.dirty:
        if not isinstance(obj, User):
            continue
        attrs = inspect(obj).attrs
        if any(attrs[name].history.has_changes() for name in SESSION_ENDING) \
                and not attrs.session_generation.history.has_changes():
            obj.session_generation = (obj.session_generation or 0) + 1


event.listen(Session, "before_flush", _end_sessions_on_change)
