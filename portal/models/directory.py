"""Directories kept by supervisors: hospitals (domestic and overseas), escorts, experts."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class Hospital(db.Model):
    """A cooperating hospital; the directory at request time rules (SPEC §2)."""

    __table_args__ = (Index("ix_hospital_scope_city", "overseas", "city", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    overseas: Mapped[bool] = mapped_column(default=False)
    city: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(30), default="中国")
    address: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: deactivated hospitals stay for history but are no longer offered
    active: Mapped[bool] = mapped_column(default=True)
    #: when it left the directory: a case requested before then may still use it (以申请服务时的医院合作列表为准)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Escort(db.Model):
    """A medical escort on the roster of one city."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(30))
    city: Mapped[str] = mapped_column(String(40), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Expert(db.Model):
    """A 三甲 expert giving domestic second opinions (北京/上海/广州), or an overseas expert."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str | None] = mapped_column(String(40))
    specialty: Mapped[str | None] = mapped_column(String(60))
    city: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(30), default="中国")
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    hospital_name: Mapped[str | None] = mapped_column(String(120))
    #: grade of the expert's hospital, e.g. 三甲: domestic second opinions need a 三甲 expert (seed)
    hospital_grade: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
