"""The report figure rollups and the live clock counts (issue 20) equal a recount from scratch after varied
generated histories — cases opened, moved, closed; clocks stopped met or late, breached, paused, their
outcomes corrected; transactions committed, rolled back and savepoints dropped; the sweep's Core UPDATE — and
the figures read from them equal the definitions computed over every case and clock (`reports.scan_figures`),
for whole weeks, partial days and now."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from casework import at, walk
from sqlalchemy import insert

from portal import calendar
from portal.domain import live_clocks, reports, rollups, sweep
from portal.extensions import db
from portal.models import OPEN_STATUSES, Case, SlaClock

LINES = ("green_outpatient", "green_inpatient", "domestic_escort")
NOW = datetime(2026, 12, 9, 6, 30, tzinfo=UTC)  # Wednesday 14:30 Asia/Shanghai
FIRST = datetime(2026, 11, 2, tzinfo=UTC)


def _moment(rng: random.Random, after: datetime | None = None) -> datetime:
    start = after or FIRST
    return start + timedelta(seconds=rng.randint(0, max(1, int((NOW - start).total_seconds()))))


def _set_due(clock: SlaClock, due: date) -> None:
    clock.due_date, clock.deadline = due, calendar.end_of_business_day(due)


def _new_case(rng: random.Random, person, n: int) -> Case:
    submitted = _moment(rng)
    case = Case(ref=f"ZJROLL-{n:05d}", policy_id=person.policy_id, insured_id=person.id, line_code=rng.choice(LINES),
                status="submitted", submitted_at=submitted)
    db.session.add(case)
    for kind in rng.sample(("arrange", "report"), rng.randint(1, 2)):
        clock = SlaClock(case=case, kind=kind, days=5, state="running", start_date=calendar.to_business_date(submitted),
                         started_at=submitted, paused_days=0, provisional=False, breached=False)
        _set_due(clock, calendar.to_business_date(submitted) + timedelta(days=rng.randint(-2, 12)))
        db.session.add(clock)
    return case


def _change(rng: random.Random, case: Case) -> None:
    """One random write of the kind the app makes to a case or one of its clocks."""
    roll = rng.random()
    clock = rng.choice(case.clocks) if case.clocks else None
    if roll < 0.25 and case.status in OPEN_STATUSES:
        case.status = rng.choice(OPEN_STATUSES)
    elif roll < 0.45 and case.closed_at is None:
        case.status, case.closed_at = rng.choice(rollups.CLOSED), _moment(rng, case.submitted_at)
        for c in case.clocks:
            if c.state != "stopped":
                c.state, c.stopped_at = "stopped", case.closed_at
                c.outcome = "breached" if c.breached or c.deadline < c.stopped_at else rng.choice(["met", "void"])
    elif roll < 0.6 and clock is not None and clock.state == "running":
        clock.state, clock.stopped_at = "stopped", _moment(rng, clock.started_at)
        clock.outcome = "breached" if clock.deadline < clock.stopped_at else "met"
        if clock.outcome == "breached":
            clock.breached, clock.breached_at = True, clock.deadline
    elif roll < 0.7 and clock is not None and clock.state == "running" and not clock.breached \
            and clock.deadline < NOW:  # a breach is recorded once the deadline has passed (the sweep)
        clock.breached, clock.breached_at = True, clock.deadline
    elif roll < 0.8 and clock is not None and clock.state == "stopped" and clock.outcome in ("met", "breached"):
        # a holiday import correcting a stopped clock's outcome (issue 17 item 2)
        if clock.outcome == "met":
            clock.outcome, clock.breached, clock.breached_at = "breached", True, clock.deadline
        else:
            clock.outcome, clock.breached, clock.breached_at = "met", False, None
    elif roll < 0.9 and clock is not None and clock.state in ("running", "paused"):
        clock.state = "paused" if clock.state == "running" else "running"
        clock.paused_on = calendar.to_business_date(NOW) if clock.state == "paused" else None
        _set_due(clock, clock.due_date + timedelta(days=rng.randint(0, 3)))
    elif clock is not None and clock.state != "stopped":
        _set_due(clock, clock.due_date + timedelta(days=rng.randint(-3, 3)))


def _periods() -> list[tuple[datetime, datetime]]:
    weeks = [reports.week_period(f"2026-W{n}") for n in range(45, 50)]
    return [*weeks,
            (reports.business_start(date(2026, 12, 1)), NOW),   # the month so far
            (reports.business_start(date(2026, 12, 7)), NOW),   # the week so far
            (FIRST + timedelta(hours=30, minutes=7), FIRST + timedelta(days=9, hours=3)),  # mid-day to mid-day
            (NOW - timedelta(hours=3), NOW),                      # within one day
            (reports.business_start(NOW.date()), NOW - timedelta(hours=2))]  # today's start to before now


def _assert_consistent() -> None:
    db.session.expire_all()
    assert rollups.stored(db.session) == rollups.recount(db.session)
    assert live_clocks.stored(db.session) == live_clocks.recount(db.session)
    periods = _periods()
    expected = reports.scan_figures(periods)
    # without `now`, every "at the end" figure from the bounded reads; with it, those ending now from the live
    # clock rollup (the dashboard's way)
    for got in (reports.period_figures(periods), reports.period_figures(periods, now=NOW)):
        for (start, end), mine, truth in zip(periods, got, expected, strict=True):
            assert [vars(f) for f in mine] == [vars(f) for f in truth], (start, end)
    # the dashboard's short lists read along the indexes equal the same lists over every clock, ordered by due
    # date and then by clock
    today = calendar.business_today(NOW)
    for kind, condition in (("overdue", reports.overdue_at(NOW)), ("at_risk", reports.at_risk_at(NOW))):
        every = sorted(reports.clock_list(condition, as_of=today), key=lambda c: (c["due_date"], c["clock_id"]))
        for limit in (1, 3, 10):
            assert reports.live_list(kind, NOW, limit=limit) == every[:limit]


@pytest.mark.parametrize("seed", range(6))
def test_rollups_equal_a_recount_after_a_generated_history(app, product, make_policy, seed):
    rng = random.Random(seed)
    people = [make_policy() for _ in range(3)]
    db.session.commit()
    cases: list[Case] = []
    for step in range(14):
        for _ in range(rng.randint(1, 6)):
            cases.append(_new_case(rng, rng.choice(people), len(cases) + 1000 * seed))
        db.session.flush()
        for case in rng.sample(cases, min(len(cases), rng.randint(1, 8))):
            _change(rng, case)
        ending = rng.random()
        if ending < 0.15:  # the whole transaction rolled back: nothing of it counts
            db.session.rollback()
            cases = [c for c in cases if c.id is not None and db.session.get(Case, c.id) is not None]
            continue
        if ending < 0.35:  # a savepoint dropped in the middle of a kept transaction
            savepoint = db.session.begin_nested()
            for case in rng.sample(cases, min(len(cases), 3)):
                _change(rng, case)
            savepoint.rollback()
        db.session.commit()
        if step % 5 == 4:
            sweep.sweep(NOW)  # breaches recorded by a Core UPDATE
            db.session.commit()
    _assert_consistent()


def test_rows_written_outside_the_orm_are_counted_by_rebuild(app, product, make_policy):
    person = make_policy()
    db.session.commit()
    db.session.execute(insert(Case), [dict(ref=f"ZJBULK-{i}", policy_id=person.policy_id, insured_id=person.id,
                                           line_code="green_outpatient", status="completed", request_data={},
                                           eligibility=[], submitted_at=at(2026, 11, 16, 9),
                                           closed_at=at(2026, 11, 18, 9), updated_at=NOW, version=1)
                                      for i in range(4)])
    db.session.commit()
    assert rollups.stored(db.session) != rollups.recount(db.session)
    rollups.rebuild(db.session)
    live_clocks.rebuild(db.session)
    db.session.commit()
    _assert_consistent()


def test_the_app_s_own_writes_keep_them(open_, staff, directory):
    """Intake, transitions and the sweep of the real domain code (not hand-set columns)."""
    case = open_("green_outpatient", at(2026, 11, 30, 9))
    walk(case, staff.coord, [("verify", at(2026, 11, 30, 10), {}),
                             ("terminate", at(2026, 12, 1, 11), {"reason": "insured_withdrew"})])
    late = open_("green_outpatient", at(2026, 11, 23, 9))
    sweep.sweep(NOW)
    db.session.commit()
    assert late.clocks and any(c.breached for c in late.clocks)
    _assert_consistent()


def test_today_so_far_never_subtracts_a_mark_it_did_not_count(app, product, make_policy):
    """Another transaction commits a case submitted after `until` between partial_day's two reads (READ COMMITTED,
    and SQLite's autocommit reads: each statement its own snapshot): it must not be taken off a rollup row read
    before it committed."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    person = make_policy()
    db.session.commit()
    day = calendar.to_business_date(NOW)
    start = calendar.start_of_business_day(day)

    def new_case(ref, at):
        return Case(ref=ref, policy_id=person.policy_id, insured_id=person.id, line_code="green_outpatient",
                    status="submitted", submitted_at=at)

    db.session.add(new_case("ZJRACE-1", start + timedelta(hours=1)))
    db.session.commit()
    fired = []

    def other_commits(conn, cursor, statement, *_args):
        if not fired and "submitted_at >=" in statement and "figure_rollup" not in statement:
            fired.append(statement)
            with Session(db.engine) as other:
                other.add(new_case("ZJRACE-2", NOW + timedelta(minutes=1)))
                other.commit()

    event.listen(db.engine, "before_cursor_execute", other_commits)
    try:
        got = rollups.partial_day(start, NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", other_commits)
    assert fired
    assert got[("green_outpatient", "opened")] == 1
