"""Operations: alerts, weekly reports, holiday overrides, audit log and scheduler leases."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .cases import _refuse


class Alert(db.Model):
    """A due-soon / breached / system alert; `key` makes raising it idempotent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "clock:42:due_soon" — one alert per case, clock and kind, ever
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("sla_clock.id"))
    #: the coordinator it is for; null = all supervisors
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WeeklyReport(db.Model):
    """An immutable snapshot of one ISO week; a rebuild adds a version."""

    __table_args__ = (UniqueConstraint("week", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISO week, e.g. 2026-W47
    week: Mapped[str] = mapped_column(String(8), index=True)
    version: Mapped[int] = mapped_column(default=1)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: "scheduler", "cli" or a username
    built_by: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(db.JSON)
    #: the signed audit checkpoint issued when this version was built (SPEC §6, §7)
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("audit_checkpoint.id"))


class InsurerDelivery(db.Model):
    """A report sent to 史带: in the auditors' inbox and by e-mail; an auditor marks it 已阅 (SPEC §6)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: second_opinion_report | treatment_report | weekly_report
    kind: Mapped[str] = mapped_column(String(30))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    weekly_report_id: Mapped[int | None] = mapped_column(ForeignKey("weekly_report.id"))
    #: the delivered documents' ids (report, translation, service report, bills)
    document_ids: Mapped[list] = mapped_column(db.JSON, default=list)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: the configured 史带 address it was mailed to, and when; the error when it could not be sent
    email_to: Mapped[str | None] = mapped_column(String(200))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case = relationship("Case")
    weekly_report = relationship("WeeklyReport")
    read_by = relationship("User")


class HolidayOverride(db.Model):
    """A day from an imported State Council notice or entered by hand; beats chinese-calendar."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    is_off_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60))
    #: notice (imported official notice for `year`) | manual
    source: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: lets every process notice an import made by another one (portal.domain.holidays.refresh_if_changed)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditLog(db.Model):
    """Append-only, hash-chained log of reads of sensitive data and of changes outside case history (SPEC §7)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 1, 2, 3 ... over the whole log; unique, so two writers cannot fork the chain (portal.domain.auditlog)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_role: Mapped[str] = mapped_column(String(20))
    #: e.g. document.view, case.export, auditor.write_refused, hospital.update
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[int | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    detail: Mapped[dict] = mapped_column(db.JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: sha256 of the row's canonical JSON including prev_hash
    hash: Mapped[str] = mapped_column(String(64))


class JobLease(db.Model):
    """A lease that lets one process at a time run a scheduled job."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(db.Model):
    """When each scheduled job last covered; lets a restarted scheduler catch up once."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_business_date: Mapped[date | None]


# append-only: the audit log and the weekly snapshots (a rebuild adds a version)
for _model in (AuditLog, WeeklyReport):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)


class QueueCount(db.Model):
    """How many cases share one (assignee, status, line, city): the work queue's tab counts are sums over these
    few rows instead of counts over every case (issue 20). Kept by `portal.domain.queue_counts` inside the
    transaction that changes a case; 0 stands for "no assignee" and "" for "no city", so the key is unique."""

    __table_args__ = (UniqueConstraint("assignee_id", "status", "line_code", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignee_id: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(30))
    line_code: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(30), default="")
    n: Mapped[int] = mapped_column(default=0)


class FigureRollup(db.Model):
    """How many cases / SLA clocks of one line count towards one report figure on one business date (issue 20):
    the dashboard's and the weekly report's windowed figures are sums over these few rows. Kept by
    `portal.domain.rollups` inside the writing transaction; `figure` is one of `rollups.FIGURES`."""

    line_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class LiveClockCount(db.Model):
    """How many running or paused SLA clocks share one (line, state, due date, breached): the dashboard's
    overdue and at-risk counts at `now` are sums over these rows (issue 20). Kept by
    `portal.domain.live_clocks` inside the writing transaction; a clock without a due date is filed under
    0001-01-01."""

    line_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), primary_key=True)
    due_date: Mapped[date] = mapped_column(primary_key=True)
    breached: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class DashboardSnapshot(db.Model):
    """The auditor dashboard's figures as last built by the scheduler (every minute): a request reads this one
    row instead of summing over every case (issue 20). One row, replaced on each build."""

    id: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: overview.figures(now): per-line figures of the week, month and 8 trend weeks, the two short lists
    data: Mapped[dict] = mapped_column(db.JSON)
