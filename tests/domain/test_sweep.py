"""The deadline sweep (issue 7): due-soon and breached alerts exactly once, with a controlled clock."""

import itertools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from casework import at
from sqlalchemy import event, func, select

from portal import calendar, mail
from portal.domain import history, leases
from portal.domain.sweep import SweepResult, sweep
from portal.extensions import db
from portal.models import Alert, Case, CaseEvent, SlaClock

SH = ZoneInfo("Asia/Shanghai")
_refs = itertools.count(1)



@pytest.fixture
def running_clock(make_policy):
    """running_clock(due_date, assignee=None, state="running") → a case with one clock due at the end of that day."""
    person = make_policy()

    def make(due: date, *, assignee=None, state="running", kind="arrange"):
        case = Case(ref=f"ZJTEST-{next(_refs):04d}", policy_id=person.policy_id, insured_id=person.id,
                    line_code="green_outpatient", status="in_service", assignee_id=getattr(assignee, "id", None))
        clock = SlaClock(case=case, kind=kind, days=5, state=state, start_date=due - timedelta(days=7),
                         started_at=at(due.year, due.month, due.day) - timedelta(days=7), paused_days=0,
                         due_date=due, deadline=calendar.end_of_business_day(due), provisional=False, breached=False)
        db.session.add_all([case, clock])
        db.session.commit()
        return clock

    return make


def _alerts(kind=None):
    query = select(Alert).order_by(Alert.id)
    if kind:
        query = query.where(Alert.kind == kind)
    return list(db.session.scalars(query))


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_crossing_a_deadline_yields_exactly_one_breach_alert_after_many_sweeps(running_clock, make_user):
    coordinator = make_user("coordinator")
    clock = running_clock(date(2026, 11, 27), assignee=coordinator)  # a Friday
    moments = [at(2026, 11, 24, 9), at(2026, 11, 26, 9)] + [
        at(2026, 11, 26, 9) + timedelta(minutes=10 * i) for i in range(1, 260)]  # into Sat 28th
    for moment in moments:
        sweep(moment)
        db.session.commit()
    assert [(a.kind, a.key) for a in _alerts()] == [
        ("due_soon", f"clock:{clock.id}:due_soon"), ("breached", f"clock:{clock.id}:breached")]
    assert all(a.recipient_id == coordinator.id and a.case_id == clock.case_id for a in _alerts())
    db.session.refresh(clock)
    assert clock.breached and clock.breached_at == clock.deadline  # the breach dates from the deadline
    assert clock.state == "running"  # the sweep records, the milestone still stops the clock
    breaches = [e for e in history.timeline(clock.case, include_internal=True) if e.action == "breached"]
    assert len(breaches) == 1
    assert breaches[0].actor_role == "system" and breaches[0].kind == "clock" and breaches[0].internal
    assert "安排时限已超期" in breaches[0].summary
    assert history.verify().ok


def test_a_second_sweep_changes_nothing(running_clock):
    running_clock(date(2026, 11, 20))
    running_clock(date(2026, 11, 27))
    now = at(2026, 11, 26, 15)
    assert sweep(now) == SweepResult(due_soon=1, breached=1)
    db.session.commit()
    snapshot = (_count(Alert), _count(CaseEvent))
    assert sweep(now) == SweepResult(0, 0)
    assert sweep(now + timedelta(hours=1)) == SweepResult(0, 0)
    db.session.commit()
    assert (_count(Alert), _count(CaseEvent)) == snapshot


def test_due_soon_means_at_most_one_working_day_left_across_a_holiday(running_clock):
    # Wed 30 Sep 2026: the next working day is Thu 8 Oct, after the National Day holiday
    on_8th = running_clock(date(2026, 10, 8))
    running_clock(date(2026, 10, 9))
    assert sweep(at(2026, 9, 29, 10)) == SweepResult(0, 0)
    assert sweep(at(2026, 9, 30, 10)) == SweepResult(due_soon=1, breached=0)
    assert [a.clock_id for a in _alerts("due_soon")] == [on_8th.id]
    assert "10月8日（周四）到期" in _alerts("due_soon")[0].message


def test_a_clock_found_past_its_deadline_gets_only_the_breach_alert(running_clock):
    clock = running_clock(date(2026, 11, 23))
    assert sweep(at(2026, 11, 26, 10)) == SweepResult(due_soon=0, breached=1)
    assert [a.key for a in _alerts()] == [f"clock:{clock.id}:breached"]


def test_paused_stopped_and_pending_clocks_are_left_alone(running_clock):
    for state in ("paused", "stopped", "pending"):
        running_clock(date(2026, 11, 23), state=state)
    assert sweep(at(2026, 11, 26, 10)) == SweepResult(0, 0)
    assert _alerts() == []
    assert _count(CaseEvent) == 0


def test_after_three_days_without_sweeps_the_first_one_raises_each_missed_alert_once(running_clock):
    last_sweep = at(2026, 11, 23, 8, 30)  # Monday; then the scheduler is off until Thursday
    clocks = [running_clock(date(2026, 11, d)) for d in (23, 24, 25, 26, 27, 30)]
    assert sweep(last_sweep) == SweepResult(due_soon=2, breached=0)  # due 23rd and 24th
    db.session.commit()
    back = at(2026, 11, 26, 9)
    # breached while off: 23, 24, 25; due soon now: 26 (today) and 27 (next working day); 30th not yet
    assert sweep(back) == SweepResult(due_soon=2, breached=3)
    db.session.commit()
    assert sweep(back + timedelta(minutes=10)) == SweepResult(0, 0)
    db.session.commit()
    by_clock = {}
    for alert in _alerts():
        by_clock.setdefault(alert.clock_id, []).append(alert.kind)
    assert by_clock == {
        clocks[0].id: ["due_soon", "breached"], clocks[1].id: ["due_soon", "breached"],
        clocks[2].id: ["breached"], clocks[3].id: ["due_soon"], clocks[4].id: ["due_soon"],
    }
    assert _count(CaseEvent) == 3


def test_alerts_of_unassigned_cases_go_to_every_active_supervisor(running_clock, make_user, app):
    make_user("supervisor", email="boss1@example.com")
    make_user("supervisor", email="boss2@example.com")
    make_user("supervisor", email="gone@example.com", active=False)
    make_user("supervisor")  # no address: sees the alert in the portal only
    running_clock(date(2026, 11, 20))
    sweep(at(2026, 11, 26))
    assert _alerts()[0].recipient_id is None
    assert mail.outbox() == []  # nothing leaves before the commit
    db.session.commit()
    assert sorted(m["To"] for m in mail.outbox()) == ["boss1@example.com", "boss2@example.com"]
    assert "时限已超期" in mail.outbox()[0]["Subject"]
    assert _alerts()[0].emailed_at is not None


def test_the_assigned_coordinator_is_emailed_once(running_clock, make_user, app):
    coordinator = make_user("coordinator", email="chen@example.com")
    running_clock(date(2026, 11, 27), assignee=coordinator)
    for minutes in range(0, 60, 10):
        sweep(at(2026, 11, 26, 10, minutes))
        db.session.commit()
    assert [(m["To"], m["Subject"]) for m in mail.outbox()] == [("chen@example.com", "【重疾就医保】时限即将到期")]


def test_a_rolled_back_sweep_sends_nothing_and_the_next_one_raises_again(running_clock, make_user, app):
    coordinator = make_user("coordinator", email="chen@example.com")
    running_clock(date(2026, 11, 20), assignee=coordinator)
    sweep(at(2026, 11, 26))
    db.session.rollback()
    assert mail.outbox() == [] and _alerts() == []
    assert sweep(at(2026, 11, 26)) == SweepResult(0, 1)
    db.session.commit()
    assert len(mail.outbox()) == 1


def test_a_deactivated_coordinators_alerts_go_to_the_supervisors(running_clock, make_user):
    gone = make_user("coordinator", active=False)
    running_clock(date(2026, 11, 20), assignee=gone)
    sweep(at(2026, 11, 26))
    assert _alerts()[0].recipient_id is None


def test_a_repeat_sweep_costs_two_queries_whatever_the_number_of_due_clocks(running_clock, app):
    for day in (16, 17, 18, 19, 20, 23, 24, 25, 26, 27):
        running_clock(date(2026, 11, day))
    now = at(2026, 11, 26, 10)
    assert sweep(now) == SweepResult(due_soon=2, breached=8)
    db.session.commit()
    statements = []
    listener = lambda conn, cursor, statement, *args: statement == "BEGIN" or statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert sweep(now + timedelta(minutes=10)) == SweepResult(0, 0)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 2
    assert statements[0].count("sla_clock.deadline <=") == 1  # the one range query


def test_the_breach_update_finds_its_clocks_by_primary_key_not_through_every_running_clock(running_clock):
    """SQLite's planner answered `state = 'running'` from ix_sla_clock_state_breached_at once the id list had five
    ids or more: each chunk read the index entry of every running clock, so a sweep cost O(running), not O(due)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    for day in (16, 17, 18, 19, 20, 23):
        running_clock(date(2026, 11, day))
    updates = []

    def listener(conn, cursor, statement, parameters, *args):
        if statement.startswith("UPDATE sla_clock"):
            updates.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert sweep(at(2026, 11, 26, 10)) == SweepResult(due_soon=0, breached=6)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    [(statement, parameters)] = updates
    plan = [row[-1] for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert plan == ["SEARCH sla_clock USING INTEGER PRIMARY KEY (rowid=?)"]


def test_a_history_append_racing_the_sweep_costs_only_a_retry_and_every_alert_lands_once(running_clock,
                                                                                         monkeypatch):
    clocks = [running_clock(date(2026, 11, day)) for day in (16, 17, 18, 19, 20)]
    racer = clocks[3]
    real_tails, races = history._tails, []

    def racing_tails(case_ids):
        tails = real_tails(case_ids)
        if racer.case_id in case_ids and len(races) < 2:
            # a coordinator's note lands on that case after the sweep read the chains' tails: it takes the
            # seq the sweep is about to write (twice: the first retry of that case races again)
            races.append(len(case_ids))
            db.session.add(history._event(db.session.get(Case, racer.case_id), None, actor=None, kind="note",
                                          action="note", summary="并发的备注", now=at(2026, 11, 26)))
            db.session.flush()
        return tails

    monkeypatch.setattr(history, "_tails", racing_tails)
    commits = []
    result = sweep(at(2026, 11, 26), commit=lambda: commits.append(db.session.commit()), batch_size=2)
    assert result == SweepResult(0, 5)
    assert races[0] == 2 and races[1] < races[0]  # the batch was halved, then the case went alone
    assert sorted(a.clock_id for a in _alerts()) == sorted(c.id for c in clocks)
    assert _count(CaseEvent) == 5 and history.verify().ok  # the racing notes went with their savepoints
    assert len(commits) >= 3  # batch by batch
    monkeypatch.setattr(history, "_tails", real_tails)
    assert sweep(at(2026, 11, 26, 11)) == SweepResult(0, 0)


def test_a_case_that_never_stops_racing_is_left_to_the_next_sweep_and_the_rest_lands(running_clock, monkeypatch):
    clocks = [running_clock(date(2026, 11, day)) for day in (16, 17, 18)]
    racer = clocks[1]
    real_tails = history._tails

    def always_racing(case_ids):
        tails = real_tails(case_ids)
        if racer.case_id in case_ids:
            db.session.add(history._event(db.session.get(Case, racer.case_id), None, actor=None, kind="note",
                                          action="note", summary="并发的备注", now=at(2026, 11, 26)))
            db.session.flush()
        return tails

    monkeypatch.setattr(history, "_tails", always_racing)
    assert sweep(at(2026, 11, 26), commit=db.session.commit, batch_size=10) == SweepResult(0, 2)
    assert sorted(a.clock_id for a in _alerts()) == sorted([clocks[0].id, clocks[2].id])
    monkeypatch.setattr(history, "_tails", real_tails)
    assert sweep(at(2026, 11, 26, 11), commit=db.session.commit) == SweepResult(0, 1)
    assert sorted(a.clock_id for a in _alerts()) == sorted(c.id for c in clocks)


def test_a_sweep_given_commit_commits_batch_by_batch_and_a_failure_keeps_the_batches_done(running_clock,
                                                                                       monkeypatch):
    from portal.domain import sweep as sweep_module

    clocks = [running_clock(date(2026, 11, 16)) for _ in range(6)]
    real_batch, calls = sweep_module._sweep_batch, []

    def failing_third(pairs, now, supervisors):
        calls.append(len(pairs))
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real_batch(pairs, now, supervisors)

    monkeypatch.setattr(sweep_module, "_sweep_batch", failing_third)
    with pytest.raises(RuntimeError):
        sweep(at(2026, 11, 26), commit=db.session.commit, batch_size=2)
    db.session.rollback()
    assert len(_alerts()) == 4  # two batches committed before the failure
    monkeypatch.setattr(sweep_module, "_sweep_batch", real_batch)
    assert sweep(at(2026, 11, 26, 11), commit=db.session.commit) == SweepResult(0, 2)
    assert sorted(a.clock_id for a in _alerts()) == sorted(c.id for c in clocks)


# ---- leases -------------------------------------------------------------------------------------

def test_a_live_lease_keeps_other_holders_out_until_it_expires_or_is_released(app):
    now = at(2026, 11, 26)
    ttl = timedelta(minutes=10)
    assert leases.acquire("job", "a", ttl, now)
    assert not leases.acquire("job", "b", ttl, now + timedelta(minutes=5))
    assert leases.acquire("job", "a", ttl, now + timedelta(minutes=5))  # the holder renews
    assert not leases.acquire("job", "b", ttl, now + timedelta(minutes=14))
    assert leases.acquire("job", "b", ttl, now + timedelta(minutes=16))  # a crashed holder is replaced
    assert not leases.release("job", "a", now + timedelta(minutes=17))  # only the holder releases
    assert not leases.acquire("job", "a", ttl, now + timedelta(minutes=17))
    assert leases.release("job", "b", now + timedelta(minutes=18))
    assert leases.acquire("job", "a", ttl, now + timedelta(minutes=18))
    assert leases.acquire("other", "b", ttl, now)  # leases are per job
