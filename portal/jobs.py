"""Scheduled jobs: thin wrappers that open an app context, take the job's lease, call the domain, commit.

The scheduler (portal.scheduler) and the CLI (`flask deadlines check`) call these; every rule lives in
portal.domain. A job whose lease another process holds is skipped (returns `Skipped`), so any number of
scheduler processes may run: each job still runs once at a time.

Leases are short (SCHEDULER_LEASE_SECONDS, 60 s) and renewed by a heartbeat thread every third of that while
the job runs (issue 18): a scheduler killed mid-job holds its lease at most a minute, and the catch-up of
portal.scheduler then runs the job in another (or the restarted) scheduler.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from . import calendar
from .domain import checkpoints, insurer, leases, ledger, orphans, reminders, reports
from .domain.holidays import reload_calendar
from .domain.sweep import SweepResult, raise_alert, sweep
from .extensions import db
from .models import JobLease, JobRun, WeeklyReport, utcnow

log = logging.getLogger(__name__)

#: the weekly report falls due on Mondays at this time, Asia/Shanghai (SPEC §6)
WEEKLY_AT = time(9, 0)

#: how long a lease lasts unless its heartbeat renews it (SCHEDULER_LEASE_SECONDS overrides)
LEASE_SECONDS = 60


def lease_ttl(app: Flask | None = None) -> timedelta:
    """The lease time-to-live: short, so that a killed holder is replaced within about a minute."""
    app = app or current_app
    return timedelta(seconds=float(app.config.get("SCHEDULER_LEASE_SECONDS", LEASE_SECONDS)))


@dataclass(frozen=True)
class Skipped:
    """The job did not run: another process holds its lease."""

    name: str
    holder: str | None


def run_job(app: Flask, name: str, work: Callable[[datetime], object], *, now: datetime | None = None):
    """Run `work(now)` under the lease `name`; record the JobRun; Skipped if leased. The work commits at the end
    (or batch by batch, as the sweep does); a heartbeat keeps the lease while it runs."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with _app_context(app):
        ttl = lease_ttl(app)
        # another process (a web worker) may have imported a holiday notice since this one started
        reload_calendar(missing_ok=True)
        # end that read: on SQLite a transaction that read first cannot wait for the write lock, it fails
        db.session.commit()
        taken = leases.acquire(name, holder, ttl, utcnow())  # wall clock: leases coordinate processes
        db.session.commit()
        if not taken:
            log.info("job %s skipped: lease held by another process", name)
            return Skipped(name, _holder_of(name))
        heartbeat = Heartbeat(app, name, holder, ttl)
        heartbeat.start()
        try:
            now = now or utcnow()
            result = work(now)
            _record_run(name, now)
            db.session.commit()
            log.info("job %s done: %s", name, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            heartbeat.stop()
            _release(name, holder)


class Heartbeat(threading.Thread):
    """Renews a held lease every third of its TTL until stopped, on a connection of its own."""

    def __init__(self, app: Flask, name: str, holder: str, ttl: timedelta):
        super().__init__(name=f"lease-{name}", daemon=True)
        self.app, self.lease, self.holder, self.ttl = app, name, holder, ttl
        self._stopped = threading.Event()

    def run(self) -> None:
        table = JobLease.__table__
        while not self._stopped.wait(self.ttl.total_seconds() / 3):
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    connection.execute(update(table).where(table.c.name == self.lease, table.c.holder == self.holder)
                                       .values(expires_at=utcnow() + self.ttl))
            except SQLAlchemyError:  # a missed beat is fine: the TTL covers three of them
                log.warning("job %s: lease heartbeat failed", self.lease, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=30)


def _release(name: str, holder: str) -> None:
    """Give the lease back; if the database is gone, the lease simply expires (never mask the job's error)."""
    try:
        leases.release(name, holder, utcnow())
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("job %s: lease not released; it expires within %s", name, lease_ttl())


def _app_context(app: Flask):
    """A new app context in a scheduler thread; the caller's own under the CLI (so results stay attached)."""
    if has_app_context() and current_app._get_current_object() is app:
        return nullcontext()
    return app.app_context()


def _holder_of(name: str) -> str | None:
    return db.session.scalar(select(JobLease.holder).where(JobLease.name == name))


def _record_run(name: str, now: datetime) -> None:
    """Remember when the job last succeeded, so a restarted scheduler knows what it missed."""
    run = db.session.get(JobRun, name) or JobRun(name=name)
    run.last_success_at, run.last_business_date = now, calendar.business_today(now)
    db.session.add(run)
    db.session.flush()


# ---- the jobs ----------------------------------------------------------------------------------

def deadline_sweep(app: Flask, *, now: datetime | None = None) -> SweepResult | Skipped:
    """Raise due-soon and breached alerts (every 10 minutes, and the 08:30 working-day run), committing batch by
    batch so that a backlog lands whatever staff do meanwhile (issue 18)."""
    size = int(app.config.get("SWEEP_BATCH_SIZE", 1000))
    return run_job(app, "deadline_sweep", lambda now: sweep(now, commit=db.session.commit, batch_size=size), now=now)


def morning_sweep(app: Flask, *, now: datetime | None = None) -> SweepResult | Skipped | None:
    """The 08:30 sweep, on working days only (调休 Saturdays included, holidays excluded)."""
    if not calendar.is_working_day(calendar.business_today(now)):
        return None
    return deadline_sweep(app, now=now)


def document_reminders(app: Flask, *, now: datetime | None = None) -> reminders.ReminderResult | Skipped | None:
    """09:30 on working days: reminders to insured people who owe documents, materials-missing alerts."""
    if not calendar.is_working_day(calendar.business_today(now)):
        return None
    return run_job(app, "document_reminders", reminders.run, now=now)


def weekly_report(app: Flask, *, now: datetime | None = None) -> WeeklyReport | Skipped:
    """The report due at the last Monday 09:00 — built once; a scheduler rerun returns the stored one."""
    def work(now: datetime) -> WeeklyReport:
        week = due_week(now)
        built = db.session.scalar(select(WeeklyReport).where(WeeklyReport.week == week,
                                                             WeeklyReport.built_by == "scheduler"))
        return built or reports.build_weekly(week, built_by="scheduler", now=now)

    return run_job(app, "weekly_report", work, now=now)


def insurer_mail(app: Flask, *, now: datetime | None = None) -> int | Skipped:
    """Every 5 minutes: e-mail 史带 the reports delivered since (the weekly report with its XLSX), SPEC §6."""
    from .blueprints.auditor.exports import weekly_xlsx  # the file the auditor downloads, formula-safe

    return run_job(app, "insurer_mail", lambda now: insurer.send_pending(weekly_xlsx, now=now), now=now)


def refresh_dashboard(app: Flask, *, now: datetime | None = None):
    """Every minute: the auditor dashboard's figures, so no auditor's request pays for the sums (issue 20)."""
    from .blueprints.auditor.overview import refresh

    return run_job(app, "dashboard", refresh, now=now)


def due_week(now: datetime) -> str:
    """The ISO week whose report fell due at the latest Monday 09:00 (Asia/Shanghai) not after `now`."""
    local = now.astimezone(calendar.BUSINESS_TZ)
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < WEEKLY_AT:
        monday -= timedelta(days=7)
    return reports.week_of(monday - timedelta(days=7))


def lapse_entitlements(app: Flask, *, now: datetime | None = None) -> int | Skipped:
    """Nightly: free units of policy years that have ended are recorded as lapsed."""
    return run_job(app, "lapse_entitlements",
                   lambda now: ledger.lapse_expired(calendar.business_today(now), now=now), now=now)


def outbox_drain(app: Flask, *, now: datetime | None = None):
    """Every minute: send or retry the SMS and e-mails of the outbox; drop finished rate-limit windows."""
    def work(now: datetime):
        from .outbox import deliver_due
        from .web.ratelimit import DatabaseStorage

        result = deliver_due(now=now)
        DatabaseStorage().purge_expired()
        return result

    return run_job(app, "outbox_drain", work, now=now)


def audit_checkpoint(app: Flask, *, now: datetime | None = None):
    """Daily: a signed checkpoint over every chain (SPEC §7); the weekly report issues one more."""
    return run_job(app, "audit_checkpoint", lambda now: checkpoints.issue(reason="daily", now=now), now=now)


def audit_verify(app: Flask, *, now: datetime | None = None) -> checkpoints.Verification | Skipped:
    """Nightly: every chain against the stored checkpoints; a failure raises one alert per day to the supervisors."""
    def work(now: datetime) -> checkpoints.Verification:
        result = checkpoints.verify_stored()
        if not result.ok:
            first = result.first
            raise_alert(
                key=f"audit:{calendar.business_today(now).isoformat()}:failed", kind="audit_failed", now=now,
                case_id=first.case_id if first.case_ref else None,
                message=f"记录完整性校验失败：{first.message}"[:300],
            )
        return result

    return run_job(app, "audit_verify", work, now=now)


def reconcile_uploads(app: Flask, *, now: datetime | None = None) -> orphans.ReconcileResult | Skipped:
    """Hourly: quarantine stored files no document row references (a worker killed mid-upload, issue 18)."""
    def work(now: datetime) -> orphans.ReconcileResult:
        minutes = int(current_app.config.get("ORPHAN_UPLOAD_MINUTES", 60))
        result = orphans.reconcile(now, older_than=timedelta(minutes=minutes))
        if result.quarantined:
            log.warning("upload reconciler: %d orphan file(s) moved to quarantine", result.quarantined)
        return result

    return run_job(app, "reconcile_uploads", work, now=now)
