"""Issue 18 items 6 and 7: weekly reports built at the same instant get one version each, a weekly job that
failed is run again by the scheduler's catch-up, and a scheduler killed mid-sweep is replaced within a minute."""

import signal
import threading
from datetime import UTC, datetime, timedelta

from harness import in_threads, scheduler, wait_until
from sqlalchemy import text
from world import add_cases, rows, scalar

from portal.models import utcnow


def test_weekly_reports_built_at_the_same_instant_get_one_version_each(database):
    """Four builds on four connections released by one barrier: `flask report weekly` racing the Monday job."""
    from portal.domain.reports import build_weekly
    from portal.extensions import db as sqla

    db, start = database, threading.Barrier(4)

    def build(by: str) -> int:
        with db.app.app_context():
            try:
                sqla.session.execute(text("SELECT 1")).all()  # connected before the start line
                start.wait(timeout=30)
                report = build_weekly("2026-W47", built_by=by)
                sqla.session.commit()
                return report.version
            finally:
                sqla.session.remove()

    versions = in_threads([lambda i=i: build(f"p{i}") for i in range(4)], timeout=120)
    assert not any(isinstance(v, Exception) for v in versions), versions  # before: IntegrityError (uq_weekly_…)
    assert sorted(versions) == [1, 2, 3, 4]
    assert [r[0] for r in rows(db.app, "SELECT version FROM weekly_report WHERE week = '2026-W47' "
                                       "ORDER BY version")] == [1, 2, 3, 4]


def _hold_writes(db, holder, table: str) -> None:
    if db.backend == "sqlite":
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder.execute("BEGIN")
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def test_a_weekly_job_that_failed_is_retried_by_the_catch_up(database):
    db = database
    env = db.env(SCHEDULER_CATCH_UP_SECONDS=1, SCHEDULER_RETRY_SECONDS=2, DATABASE_LOCK_TIMEOUT=1)
    holder = db.connect()
    _hold_writes(db, holder, "weekly_report")  # the first build cannot write: the job fails
    process = scheduler(env, db.logs / "scheduler.log")
    try:
        wait_until(lambda: "weekly_report" in process.output() and "Traceback" in process.output(), timeout=90,
                   interval=0.2, what="the weekly job failing")
        holder.rollback()
        wait_until(lambda: scalar(db.app, "SELECT count(*) FROM job_run WHERE name = 'weekly_report'"),
                   timeout=90, interval=0.5, what="the weekly job retried by the catch-up")
        assert scalar(db.app, "SELECT count(*) FROM weekly_report WHERE built_by = 'scheduler'") == 1
    finally:
        holder.close()
        process.stop()


def test_a_scheduler_killed_mid_sweep_is_replaced_and_the_alerts_land_within_90_s(database):
    db = database
    due = 1500
    ids = add_cases(db.app, due, deadline=utcnow() - timedelta(hours=1), assignee="coord1")
    mine = {"lo": ids[0], "hi": ids[-1]}
    alerts = "SELECT count(*) FROM alert WHERE case_id BETWEEN :lo AND :hi"  # the demo data has due clocks too
    env = db.env(SCHEDULER_LEASE_SECONDS=6, SCHEDULER_CATCH_UP_SECONDS=1, DATABASE_LOCK_TIMEOUT=60,
                 SWEEP_BATCH_SIZE=50)
    holder = db.connect()
    if db.backend == "postgresql":
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE alert IN EXCLUSIVE MODE")  # the sweep takes its lease, then waits here
    first = scheduler(env, db.logs / "scheduler-a.log")
    second = None
    try:
        lease = "SELECT holder FROM job_lease WHERE name = 'deadline_sweep'"
        wait_until(lambda: f":{first.pid}:" in (scalar(db.app, lease) or ""), timeout=90, interval=0.02,
                   what="the first scheduler's sweep lease")
        due_at = datetime.now(UTC)  # the sweep was due now: the first scheduler started it
        if db.backend == "sqlite":
            holder.execute("BEGIN IMMEDIATE")  # between two of its batches: the sweep waits for the lock
        first.signal(signal.SIGKILL)
        first.popen.wait(30)
        holder.rollback()
        landed_before = scalar(db.app, alerts, **mine)
        assert scalar(db.app, "SELECT count(*) FROM job_run WHERE name = 'deadline_sweep'") == 0
        second = scheduler(env, db.logs / "scheduler-b.log")  # the restarted (or another) scheduler
        wait_until(lambda: scalar(db.app, alerts, **mine) == due, timeout=120, interval=0.5,
                   what="every alert after the takeover")
        last = scalar(db.app, "SELECT max(created_at) FROM alert WHERE case_id BETWEEN :lo AND :hi", **mine)
        last = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
        assert last.replace(tzinfo=UTC) - due_at < timedelta(seconds=90)
        assert landed_before < due  # the first scheduler really died mid-sweep
        assert scalar(db.app, alerts.replace("count(*)", "count(DISTINCT clock_id)"), **mine) == due
        assert scalar(db.app, "SELECT count(*) FROM case_event WHERE action = 'breached' "
                              "AND case_id BETWEEN :lo AND :hi", **mine) == due
        wait_until(lambda: scalar(db.app, "SELECT count(*) FROM job_run WHERE name = 'deadline_sweep'"),
                   timeout=30, what="the takeover's run record")
    finally:
        holder.close()
        first.stop()
        if second is not None:
            second.stop()
