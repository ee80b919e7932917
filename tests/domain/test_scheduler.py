"""Scheduled jobs (issue 7): leases across processes, the weekly report, catch-up after downtime, wiring."""

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from casework import at
from helpers import as_database_owner
from sqlalchemy import func, select, text

from portal import calendar, create_app, jobs, scheduler
from portal.config import Config
from portal.domain import history, leases
from portal.domain.sweep import SweepResult
from portal.extensions import db
from portal.models import Alert, Case, CaseEvent, Entitlement, JobLease, JobRun, SlaClock, WeeklyReport, utcnow

SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
_refs = itertools.count(1)



@pytest.fixture
def clock_due(make_policy):
    """clock_due(deadline, **case_fields) → a committed running clock of a fresh case, due at `deadline`."""
    person = make_policy()

    def make(deadline: datetime, *, submitted_at=None, **case_fields):
        due = calendar.to_business_date(deadline)
        case = Case(ref=f"ZJJOB-{next(_refs):05d}", policy_id=person.policy_id, insured_id=person.id,
                    line_code="green_outpatient", status="in_service",
                    submitted_at=submitted_at or deadline - timedelta(days=7), **case_fields)
        clock = SlaClock(case=case, kind="arrange", days=5, state="running", start_date=due - timedelta(days=7),
                         started_at=case.submitted_at, paused_days=0, due_date=due, deadline=deadline,
                         provisional=False, breached=False)
        db.session.add_all([case, clock])
        db.session.commit()
        return clock

    return make


def _count(model, *where):
    db.session.commit()  # a fresh transaction sees what other processes and sessions committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _env(database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "MAIL_BACKEND": "none", "SCHEDULER_IN_PROCESS": "0"}


# ---- jobs: lease, run record ---------------------------------------------------------------------

def test_deadlines_check_runs_one_sweep_and_says_what_it_raised(runner, clock_due):
    clock_due(utcnow() - timedelta(days=2))
    clock_due(utcnow() + timedelta(hours=1))
    result = runner.invoke(args=["deadlines", "check"])
    assert result.exit_code == 0, result.output
    assert "新增临期提醒 1 条，超期提醒 1 条" in result.output
    again = runner.invoke(args=["deadlines", "check"])
    assert "新增临期提醒 0 条，超期提醒 0 条" in again.output
    assert _count(Alert) == 2


def test_a_job_records_its_run_and_gives_its_lease_back(app, clock_due):
    clock_due(at(2026, 11, 20, 23, 59))
    now = at(2026, 11, 26, 9)
    assert jobs.deadline_sweep(app, now=now) == SweepResult(due_soon=0, breached=1)
    run = db.session.get(JobRun, "deadline_sweep")
    assert run.last_success_at == now and run.last_business_date == date(2026, 11, 26)
    lease = db.session.get(JobLease, "deadline_sweep")
    assert lease.expires_at <= utcnow() and lease.last_run_at is not None


def test_a_job_whose_lease_another_process_holds_is_skipped(app, clock_due):
    clock_due(at(2026, 11, 20, 23, 59))
    assert leases.acquire("deadline_sweep", "other-host:42:abc", timedelta(minutes=10))
    db.session.commit()
    skipped = jobs.deadline_sweep(app, now=at(2026, 11, 26, 9))
    assert skipped == jobs.Skipped("deadline_sweep", "other-host:42:abc")
    assert _count(Alert) == 0 and db.session.get(JobRun, "deadline_sweep") is None


def test_a_failing_job_writes_nothing_and_gives_its_lease_back(app, clock_due, monkeypatch):
    clock_due(at(2026, 11, 20, 23, 59))

    def broken(now):
        from portal.domain.sweep import sweep

        sweep(now)
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "sweep", lambda now, **batching: broken(now))  # fails before its first commit
    with pytest.raises(RuntimeError):
        jobs.deadline_sweep(app, now=at(2026, 11, 26, 9))
    assert _count(Alert) == 0 and _count(CaseEvent) == 0
    assert leases.acquire("deadline_sweep", "next", timedelta(minutes=10))


# ---- exactly once across processes --------------------------------------------------------------

def test_two_deadline_checks_racing_from_two_processes_raise_one_set_of_alerts(app, database_url, clock_due):
    now = utcnow()
    for hours in range(-60, 0):  # 60 breached clocks, 3 due within the hour
        clock_due(now + timedelta(hours=hours))
    for minutes in (20, 40, 60):
        clock_due(now + timedelta(minutes=minutes))
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "deadlines", "check"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=_env(database_url), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert _count(Alert, Alert.kind == "breached") == 60 and _count(Alert, Alert.kind == "due_soon") == 3
    assert _count(CaseEvent, CaseEvent.action == "breached") == 60
    reported = "".join(out for out, _ in outputs)
    # either one ran while the other was skipped, or they ran one after the other and the second found nothing
    assert "超期提醒 60 条" in reported
    assert "跳过" in reported or "新增临期提醒 0 条，超期提醒 0 条" in reported


SWEEP_AT = """
import sys, time
from portal import create_app
from portal.domain.sweep import sweep
from portal.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    db.session.execute(text("SELECT 1")).all()  # connect before the start line
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
    result = sweep()
    db.session.commit()
    print(result.due_soon, result.breached)
"""


def test_two_sweeps_racing_without_any_lease_still_raise_one_set_of_alerts(app, database_url, clock_due):
    now = utcnow()
    for hours in range(-80, 0):
        clock_due(now + timedelta(hours=hours))
    start = time.time() + 4  # both processes are up and connected by then; they sweep at the same instant
    processes = [subprocess.Popen([sys.executable, "-c", SWEEP_AT, str(start)], cwd=ROOT, env=_env(database_url),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    succeeded = [out for (out, _), p in zip(outputs, processes, strict=True) if p.returncode == 0]
    # PostgreSQL: the loser waits for the winner's row locks, then finds nothing left to do. SQLite with a
    # deferred BEGIN refuses the loser's write at once ("database is locked"); it rolls back whole.
    refused = [err for (_, err), p in zip(outputs, processes, strict=True) if p.returncode != 0]
    assert len(succeeded) == 2 or (db.engine.dialect.name == "sqlite" and len(succeeded) == 1), outputs
    assert all("database is locked" in err for err in refused), refused
    assert _count(Alert) == 80
    assert _count(CaseEvent, CaseEvent.action == "breached") == 80
    assert sum(int(out.split()[1]) for out in succeeded) == 80  # each alert counted by exactly one sweep
    assert history.verify().ok


# ---- the weekly report --------------------------------------------------------------------------

def test_the_monday_job_builds_the_same_report_as_report_weekly(app, runner, clock_due):
    clock_due(at(2026, 11, 18, 23, 59), submitted_at=at(2026, 11, 10))  # breached in W47
    clock_due(at(2026, 11, 24, 23, 59), submitted_at=at(2026, 11, 17))  # at risk at the end of W47
    clock_due(at(2026, 12, 4, 23, 59), submitted_at=at(2026, 11, 20))  # opened in W47
    assert jobs.deadline_sweep(app, now=at(2026, 11, 19, 0, 5)) == SweepResult(0, 1)
    monday_0900 = at(2026, 11, 23, 9)
    built = jobs.weekly_report(app, now=monday_0900)
    assert (built.week, built.built_by) == ("2026-W47", "scheduler")
    result = runner.invoke(args=["report", "weekly", "--week", "2026-W47"])
    assert result.exit_code == 0, result.output
    by_cli = db.session.scalar(select(WeeklyReport).where(WeeklyReport.built_by == "cli"))
    assert by_cli.week == "2026-W47" and by_cli.data == db.session.get(WeeklyReport, built.id).data
    assert by_cli.data["total"]["opened"] == 2 and len(by_cli.data["breaches"]) == 1


def test_the_weekly_job_builds_each_week_once(app):
    first = jobs.weekly_report(app, now=at(2026, 11, 23, 9))
    again = jobs.weekly_report(app, now=at(2026, 11, 25, 14))  # a catch-up later that week
    assert again.id == first.id
    assert _count(WeeklyReport) == 1


@pytest.mark.parametrize(("now", "week"), [
    (at(2026, 11, 23, 9, 0), "2026-W47"),
    (at(2026, 11, 29, 23, 59), "2026-W47"),
    (at(2026, 11, 30, 8, 59), "2026-W47"),  # Monday before 09:00: last week's report is not due yet
    (at(2026, 11, 30, 9, 0), "2026-W48"),
    (at(2026, 12, 1, 8, 0), "2026-W48"),
    (at(2027, 1, 4, 9, 0), "2026-W53"),
])
def test_the_job_builds_the_report_that_fell_due_at_the_latest_monday_0900(now, week):
    assert jobs.due_week(now) == week


# ---- the nightly jobs ---------------------------------------------------------------------------

def test_the_nightly_lapse_records_unused_units_of_ended_years(app, make_policy):
    person = make_policy(start=date(2025, 1, 1), end=date(2026, 12, 31))
    db.session.add(Entitlement(policy_id=person.policy_id, insured_id=person.id, line_code="domestic_escort",
                               year_start=date(2025, 1, 1), year_end=date(2025, 12, 31), total=2, consumed=1,
                               reserved=0, lapsed=0))
    db.session.commit()
    assert jobs.lapse_entitlements(app, now=at(2026, 1, 1, 1)) == 1
    assert jobs.lapse_entitlements(app, now=at(2026, 1, 2, 1)) == 0
    db.session.expire_all()
    assert db.session.scalar(select(Entitlement.lapsed)) == 1


def test_a_broken_history_chain_raises_one_alert_a_day_to_the_supervisors(app, clock_due, make_user):
    make_user("supervisor", email="boss@example.com")
    case = clock_due(at(2026, 11, 20)).case
    history.append(case, actor=None, kind="note", action="note", summary="原始记录")
    db.session.commit()
    assert jobs.audit_verify(app, now=at(2026, 11, 26, 1, 30)).ok and _count(Alert) == 0
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = '被改过的记录'"))  # behind the application's back
        db.session.commit()
    for hour in (1, 2, 3):
        assert not jobs.audit_verify(app, now=at(2026, 11, 27, hour, 30)).ok
    alert = db.session.scalar(select(Alert))
    assert (alert.kind, alert.recipient_id, alert.key) == ("audit_failed", None, "audit:2026-11-27:failed")
    assert case.ref in alert.message
    jobs.audit_verify(app, now=at(2026, 11, 28, 1, 30))
    assert _count(Alert) == 2


# ---- the schedule -------------------------------------------------------------------------------

def test_the_morning_sweep_runs_on_working_days_only(app):
    assert jobs.morning_sweep(app, now=at(2026, 10, 3, 8, 30)) is None  # National Day holiday, a Saturday
    assert jobs.morning_sweep(app, now=at(2026, 10, 10, 8, 30)) == SweepResult(0, 0)  # 调休 working Saturday


def test_jobs_fire_at_their_asia_shanghai_times_and_coalesce(app):
    built = scheduler.build_scheduler(app)
    job = {j.id: j for j in built.get_jobs()}
    after = at(2026, 11, 25, 10, 7)  # a Wednesday
    fires = {name: job[name].trigger.get_next_fire_time(None, after) for name in
             ("deadline_sweep", "deadline_sweep_morning", "weekly_report", "lapse_entitlements", "audit_verify")}
    assert fires == {
        "deadline_sweep": at(2026, 11, 25, 10, 15),
        "deadline_sweep_morning": at(2026, 11, 26, 8, 30),
        "weekly_report": at(2026, 11, 30, 9, 0),
        "lapse_entitlements": at(2026, 11, 26, 1, 0),
        "audit_verify": at(2026, 11, 26, 1, 30),
    }
    assert all(j.coalesce and j.max_instances == 1 for j in job.values())
    assert job["deadline_sweep"].misfire_grace_time == 300 and job["weekly_report"].misfire_grace_time is None


def test_after_three_days_off_each_job_is_caught_up_once(app, clock_due):
    off_since = at(2026, 11, 20, 10)  # Friday; the scheduler is back on Monday
    for name in scheduler.CATCH_UP:
        db.session.add(JobRun(name=name, last_success_at=off_since, last_business_date=date(2026, 11, 20)))
    db.session.commit()
    for day in (20, 21, 23):
        clock_due(at(2026, 11, day, 23, 59))
    back = at(2026, 11, 23, 10)
    assert sorted(scheduler.missed_jobs(back)) == sorted(scheduler.CATCH_UP)
    assert jobs.deadline_sweep(app, now=back) == SweepResult(due_soon=1, breached=2)
    assert jobs.weekly_report(app, now=back).week == "2026-W47"
    jobs.lapse_entitlements(app, now=back)
    jobs.audit_verify(app, now=back)
    jobs.audit_checkpoint(app, now=back)
    assert scheduler.missed_jobs(back + timedelta(minutes=1)) == []
    assert jobs.deadline_sweep(app, now=back + timedelta(minutes=10)) == SweepResult(0, 0)
    assert _count(Alert) == 3 and _count(WeeklyReport) == 1


def test_a_failed_job_is_retried_by_the_periodic_catch_up_after_the_retry_interval(app, monkeypatch):
    """Issue 18 item 6: the Monday job failed (a race, the database down) — the catch-up runs it again."""
    from portal.domain import reports

    monkeypatch.setattr(scheduler, "_failed_at", {})
    real_build, failures = reports.build_weekly, []

    def failing_once(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError("could not serialize access")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(reports, "build_weekly", failing_once)
    monday = at(2026, 11, 30, 9, 0)
    first = scheduler.catch_up(app, now=monday)
    assert isinstance(first["weekly_report"], RuntimeError) and _count(WeeklyReport) == 0
    assert "weekly_report" not in scheduler.catch_up(app, now=monday + timedelta(minutes=1))  # backing off
    retried = scheduler.catch_up(app, now=monday + timedelta(minutes=6))
    assert retried["weekly_report"].week == "2026-W48" and _count(WeeklyReport) == 1
    assert scheduler.catch_up(app, now=monday + timedelta(minutes=7)) == {}  # nothing missed any more


def test_the_scheduler_runs_the_catch_up_every_half_minute(app):
    job = {j.id: j for j in scheduler.build_scheduler(app).get_jobs()}["catch_up"]
    assert job.trigger.interval == timedelta(seconds=30) and job.coalesce and job.max_instances == 1


def test_a_running_job_renews_its_short_lease(app, monkeypatch):
    """Issue 18 item 7: 60 s leases renewed while the job runs, so a killed holder is replaced within a minute."""
    assert jobs.lease_ttl(app) == timedelta(seconds=60)
    app.config["SCHEDULER_LEASE_SECONDS"] = 0.6  # a heartbeat every 0.2 s
    seen = []

    def slow_work(now):
        first = db.session.scalar(select(JobLease.expires_at).where(JobLease.name == "audit_verify"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # bounded: until the heartbeat has moved the expiry on
            db.session.commit()
            later = db.session.scalar(select(JobLease.expires_at).where(JobLease.name == "audit_verify"))
            if later > first:
                seen.append((first, later))
                break
            time.sleep(0.05)
        return "done"

    assert jobs.run_job(app, "audit_verify", slow_work) == "done"
    assert seen, "the heartbeat never renewed the lease"


def test_a_restarted_scheduler_adds_a_catch_up_run_only_for_what_it_missed(app):
    now = datetime.now(UTC)
    db.session.add_all([JobRun(name="deadline_sweep", last_success_at=now - timedelta(days=3)),
                        JobRun(name="weekly_report", last_success_at=now - timedelta(minutes=1)),
                        JobRun(name="lapse_entitlements", last_success_at=now - timedelta(minutes=1)),
                        JobRun(name="audit_verify", last_success_at=now - timedelta(minutes=1)),
                        JobRun(name="audit_checkpoint", last_success_at=now - timedelta(minutes=1))])
    db.session.commit()
    built = scheduler.build_scheduler(app)
    catch_ups = [j for j in built.get_jobs() if j.id.endswith("_catch_up")]
    assert [j.id for j in catch_ups] == ["deadline_sweep_catch_up"]


# ---- who runs a scheduler -----------------------------------------------------------------------

def test_a_web_app_with_the_default_configuration_runs_no_scheduler(database_url):
    assert Config.SCHEDULER_IN_PROCESS is False  # gunicorn workers: `gunicorn wsgi:app` never starts one
    web = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x", "TESTING": False})
    assert "scheduler" not in web.extensions
    with web.app_context():
        db.engine.dispose()


def test_scheduler_in_process_starts_a_background_scheduler(database_url):
    dev = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x", "TESTING": False,
                      "SCHEDULER_IN_PROCESS": True, "MAIL_BACKEND": "none"})
    running = dev.extensions["scheduler"]
    try:
        assert running.running
        assert {j.id for j in running.get_jobs()} >= {"deadline_sweep", "weekly_report", "audit_verify"}
    finally:
        running.shutdown(wait=True)
        with dev.app_context():
            db.engine.dispose()


def test_the_scheduler_command_runs_its_jobs_and_stops_on_sigterm(app, database_url):
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                               env=_env(database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        # only the caught-up jobs: others on the clock (the outbox drain, every minute) may or may not have fired
        catch_up, wanted = JobRun.name.in_(scheduler.CATCH_UP), len(scheduler.CATCH_UP)
        while _count(JobRun, catch_up) < wanted and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)  # polling for the catch-up runs of a fresh database, not a fixed wait
        assert _count(JobRun, catch_up) == wanted  # every caught-up job once
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "调度器已启动" in out and "调度器已停止" in out
    assert _count(WeeklyReport, WeeklyReport.built_by == "scheduler") == 1
