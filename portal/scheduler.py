"""APScheduler set-up: when each job of portal.jobs runs (Asia/Shanghai), and the catch-up after downtime.

Production runs `flask --app wsgi scheduler` as its own process (BlockingScheduler); `make run` starts a
BackgroundScheduler inside the development server (SCHEDULER_IN_PROCESS); gunicorn workers never start
one. Jobs live in a memory job store: the schedule is code, and the database leases of portal.jobs, not
APScheduler, keep a job to one run at a time across processes.

Misfires (a run that could not start on time: the host was suspended, the process busy) are set per job
on purpose, because APScheduler's default grace of one second silently drops late runs:
- every job coalesces: a backlog of missed runs becomes ONE run, since each job covers everything that
  is due (the sweep looks at all running clocks, the lapse at all ended years);
- the ten-minute sweep gives up after 5 minutes late (the next one is never more than 10 minutes away);
- the 08:30 sweep may start up to an hour late: the start-of-day sweep must happen;
- the weekly report, the lapse, the audit checkpoint and the audit check run however late (grace None):
  they must not be lost.
A memory job store forgets misfires across a restart, so `build_scheduler` also schedules an immediate
catch-up run of every job whose JobRun shows a fire time passed since its last success — and the same check
runs every SCHEDULER_CATCH_UP_SECONDS (30 s) while the scheduler is up (issue 18): a job that failed (the
database was down, a race) is run again — at most once per SCHEDULER_RETRY_SECONDS (5 minutes) while it keeps
failing — and a job whose holder was killed is taken over once its short lease expires.
"""

import atexit
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from . import jobs
from .calendar import BUSINESS_TZ
from .extensions import db
from .models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One scheduled job: APScheduler id, the JobRun/lease name it shares, its function, when, how late."""

    id: str
    name: str
    func: Callable
    trigger: CronTrigger
    misfire_grace_time: int | None


def _cron(**fields) -> CronTrigger:
    return CronTrigger(timezone=BUSINESS_TZ, **fields)


SCHEDULE = (
    # minutes 5, 15, ... 55: never at the same instant as the 08:30 run, and a breach at 23:59:59 is seen at 00:05
    Entry("deadline_sweep", "deadline_sweep", jobs.deadline_sweep, _cron(minute="5-55/10"), 5 * 60),
    # every day at 08:30; the job itself skips non-working days (so 调休 Saturdays are swept, holidays not)
    Entry("deadline_sweep_morning", "deadline_sweep", jobs.morning_sweep, _cron(hour=8, minute=30), 60 * 60),
    # every day at 09:30, working days only (the job checks); a missed day is made good by the next run, since
    # each reminder is due from its working day on and sent once (no catch-up entry needed)
    Entry("document_reminders", "document_reminders", jobs.document_reminders, _cron(hour=9, minute=30), 60 * 60),
    Entry("weekly_report", "weekly_report", jobs.weekly_report,
          _cron(day_of_week="mon", hour=jobs.WEEKLY_AT.hour, minute=jobs.WEEKLY_AT.minute), None),
    # the auditor dashboard's figures, built off the request path (no catch-up: the next minute does it)
    Entry("dashboard", "dashboard", jobs.refresh_dashboard, _cron(minute="*"), 60),
    Entry("lapse_entitlements", "lapse_entitlements", jobs.lapse_entitlements, _cron(hour=1, minute=0), None),
    Entry("audit_checkpoint", "audit_checkpoint", jobs.audit_checkpoint, _cron(hour=0, minute=15), None),
    Entry("audit_verify", "audit_verify", jobs.audit_verify, _cron(hour=1, minute=30), None),
    # reports to 史带 by e-mail; unsent ones wait for the next run (and show on the supervisor's page)
    Entry("insurer_mail", "insurer_mail", jobs.insurer_mail, _cron(minute="2-57/5"), 4 * 60),
    # the outbox: SMS and e-mail retries (a first attempt is made right after each commit)
    Entry("outbox_drain", "outbox_drain", jobs.outbox_drain, _cron(minute="*"), 50),
    # hourly; not caught up: the next hour's run covers everything
    Entry("reconcile_uploads", "reconcile_uploads", jobs.reconcile_uploads, _cron(minute=45), 30 * 60),
)

#: what a restart runs once when a job's fire time passed while no scheduler was up
CATCH_UP = {
    "deadline_sweep": jobs.deadline_sweep,
    "weekly_report": jobs.weekly_report,
    "lapse_entitlements": jobs.lapse_entitlements,
    "audit_verify": jobs.audit_verify,
    "audit_checkpoint": jobs.audit_checkpoint,
}


def missed_jobs(now: datetime | None = None) -> list[str]:
    """JobRun names whose next fire time after the last success has already passed (never run = missed)."""
    now = now or datetime.now(UTC)
    runs = {run.name: run.last_success_at for run in db.session.scalars(select(JobRun))}
    missed = []
    for name in CATCH_UP:
        last = runs.get(name)
        if last is None:
            missed.append(name)
            continue
        due = [e.trigger.get_next_fire_time(None, last + timedelta(microseconds=1)) for e in SCHEDULE if e.name == name]
        if any(fire is not None and fire <= now for fire in due):
            missed.append(name)
    return missed


_failed_at: dict[str, datetime] = {}
_failed_lock = threading.Lock()


def catch_up(app: Flask, *, now: datetime | None = None) -> dict[str, object]:
    """Run each missed job once (see the module docstring); a job that failed here waits for the retry interval.
    Returns what each job run gave (a result, Skipped, or the exception)."""
    given, now = now, now or datetime.now(UTC)
    retry = timedelta(seconds=float(app.config.get("SCHEDULER_RETRY_SECONDS", 300)))
    with app.app_context():
        try:
            missed = missed_jobs(now)
        except (OperationalError, ProgrammingError):  # database down or not migrated: try again next time
            db.session.rollback()
            return {}
        finally:
            db.session.remove()
    done = {}
    for name in missed:
        with _failed_lock:
            failed = _failed_at.get(name)
        if failed is not None and now - failed < retry:
            continue
        log.info("catching up on %s", name)
        try:
            done[name] = CATCH_UP[name](app, now=given)
        except Exception as error:  # logged by run_job; retried after `retry`
            with _failed_lock:
                _failed_at[name] = now
            done[name] = error
            continue
        with _failed_lock:
            _failed_at.pop(name, None)
    return done


def build_scheduler(app: Flask, *, blocking: bool = False) -> BackgroundScheduler | BlockingScheduler:
    """The scheduler with every job of SCHEDULE, plus one immediate catch-up run per missed job."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    # one job at a time per process: jobs are short, and on SQLite two concurrent transactions that read
    # then write make one fail ("database is locked") instead of waiting
    scheduler = cls(timezone=BUSINESS_TZ, executors={"default": ThreadPoolExecutor(max_workers=1)})
    for entry in SCHEDULE:
        scheduler.add_job(entry.func, entry.trigger, args=[app], id=entry.id, name=entry.id,
                          misfire_grace_time=entry.misfire_grace_time, coalesce=True, max_instances=1)
    every = float(app.config.get("SCHEDULER_CATCH_UP_SECONDS", 30))
    scheduler.add_job(catch_up, IntervalTrigger(seconds=every, timezone=BUSINESS_TZ), args=[app], id="catch_up",
                      name="catch_up", misfire_grace_time=None, coalesce=True, max_instances=1)
    now = datetime.now(UTC)
    with app.app_context():
        try:
            missed = missed_jobs(now)
        except (OperationalError, ProgrammingError):  # schema not migrated yet: nothing to catch up on
            db.session.rollback()
            missed = []
    for name in missed:
        log.info("catching up on %s (missed while no scheduler ran)", name)
        scheduler.add_job(CATCH_UP[name], "date", run_date=now, args=[app], id=f"{name}_catch_up",
                          name=f"{name} (catch-up)", misfire_grace_time=None, coalesce=True, max_instances=1)
    return scheduler


def start_background(app: Flask) -> BackgroundScheduler:
    """Run the scheduler in a thread of this process (development: `make run`)."""
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    atexit.register(lambda: scheduler.shutdown(wait=False) if scheduler.running else None)
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in the foreground until SIGINT/SIGTERM (`flask --app wsgi scheduler`)."""
    scheduler = build_scheduler(app, blocking=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.shutdown(wait=False))
    for job in scheduler.get_jobs():
        log.info("scheduled %s: %s", job.id, job.trigger)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
