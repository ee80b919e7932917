"""The weekly report and its figures (SPEC §6): every figure equals a count made here from the rows themselves,
a rebuild adds a version and keeps the old one, and the build costs a fixed number of grouped queries."""

import itertools
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from casework import at as shanghai
from casework import make_directory, make_staff, open_case, walk
from sqlalchemy import event, select

from portal import calendar
from portal.domain import reports, sweep
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import AppendOnlyError, Case, SlaClock, WeeklyReport

SH = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W47"  # Monday 16 – Sunday 22 November 2026, no holidays
START, END = shanghai(2026, 11, 16, 0), shanghai(2026, 11, 23, 0)
REPORT_TIME = shanghai(2026, 11, 23, 9)  # when the scheduler builds it
OPEN = ("submitted", "verifying", "awaiting_documents", "in_service")
_refs = itertools.count(1)


@dataclass
class ClockSpec:
    due: date
    started: datetime
    state: str = "running"
    stopped: datetime | None = None
    outcome: str | None = None
    breached_at: datetime | None = None
    paused_on: date | None = None
    kind: str = "arrange"


@pytest.fixture
def person(make_policy):
    return make_policy()


@pytest.fixture
def add_case(person):
    """add_case(line, submitted, status, closed=None, clocks=[ClockSpec...]) → the Case row, committed."""

    def add(line, submitted, status="submitted", closed=None, clocks=()):
        case = Case(ref=f"ZJREP-{next(_refs):05d}", policy_id=person.policy_id, insured_id=person.id,
                    line_code=line, status=status, submitted_at=submitted, closed_at=closed)
        db.session.add(case)
        for spec in clocks:
            db.session.add(SlaClock(
                case=case, kind=spec.kind, days=5, state=spec.state, start_date=calendar.to_business_date(spec.started),
                started_at=spec.started, due_date=spec.due, deadline=calendar.end_of_business_day(spec.due),
                stopped_at=spec.stopped, outcome=spec.outcome, breached=spec.breached_at is not None,
                breached_at=spec.breached_at, paused_on=spec.paused_on, paused_days=0, provisional=False))
        db.session.commit()
        return case

    return add


def figures(report, code):
    return next(line for line in report.data["lines"] if line["code"] == code)


def test_each_figure_of_a_hand_built_week(add_case):
    g = "green_outpatient"
    d = date
    add_case(g, shanghai(2026, 11, 17), "submitted", clocks=[ClockSpec(d(2026, 11, 24), shanghai(2026, 11, 17))])
    add_case(g, shanghai(2026, 11, 10), "completed", shanghai(2026, 11, 18), clocks=[
        ClockSpec(d(2026, 11, 17), shanghai(2026, 11, 10), "stopped", shanghai(2026, 11, 16, 15), "met")])
    add_case(g, shanghai(2026, 11, 12), "terminated", shanghai(2026, 11, 20), clocks=[
        ClockSpec(d(2026, 11, 19), shanghai(2026, 11, 12), "stopped", shanghai(2026, 11, 20), "void")])
    add_case(g, shanghai(2026, 11, 19), "cancelled", shanghai(2026, 11, 19, 11))
    at_risk = add_case(g, shanghai(2026, 11, 16), "in_service",
                       clocks=[ClockSpec(d(2026, 11, 23), shanghai(2026, 11, 16))])  # due the Monday after
    old_breach = add_case(g, shanghai(2026, 11, 5), "in_service", clocks=[
        ClockSpec(d(2026, 11, 12), shanghai(2026, 11, 5), breached_at=calendar.end_of_business_day(d(2026, 11, 12)))])
    late_stop = add_case(g, shanghai(2026, 11, 9), "completed", shanghai(2026, 11, 17), clocks=[
        ClockSpec(d(2026, 11, 16), shanghai(2026, 11, 9), "stopped", shanghai(2026, 11, 17), "breached",
                  breached_at=shanghai(2026, 11, 17))])
    new_breach = add_case(g, shanghai(2026, 11, 11), "in_service", clocks=[
        ClockSpec(d(2026, 11, 18), shanghai(2026, 11, 11), breached_at=calendar.end_of_business_day(d(2026, 11, 18)))])
    add_case(g, shanghai(2026, 11, 20), "awaiting_documents", clocks=[  # paused: its deadline does not run
        ClockSpec(d(2026, 11, 20), shanghai(2026, 11, 20), "paused", paused_on=d(2026, 11, 20))])
    add_case(g, shanghai(2026, 11, 24), "submitted")  # the next week: nowhere
    add_case(g, shanghai(2026, 11, 15), "completed", shanghai(2026, 11, 23, 1), clocks=[  # closed after the week
        ClockSpec(d(2026, 11, 24), shanghai(2026, 11, 15), "stopped", shanghai(2026, 11, 23, 1), "met")])
    refused = shanghai(2026, 11, 18, 14)
    add_case("domestic_escort", refused, "terminated", refused)  # not eligible: opened and terminated

    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)

    assert report.data["start_date"] == "2026-11-16" and report.data["end_date"] == "2026-11-22"
    green = figures(report, g)
    assert {k: green[k] for k in (*reports.COUNTS, *reports.SLA)} == {
        "opened": 4, "in_progress": 6, "completed": 2, "terminated": 1, "cancelled": 1,
        "met": 1, "breached": 2, "overdue": 2, "at_risk": 1}
    assert green["compliance"] == 33.3
    escort = figures(report, "domestic_escort")
    assert (escort["opened"], escort["terminated"], escort["in_progress"]) == (1, 1, 0)
    assert report.data["total"]["opened"] == 5
    assert {c["ref"] for c in report.data["breaches"]} == {late_stop.ref, new_breach.ref}
    assert [c["ref"] for c in report.data["overdue"]] == [old_breach.ref, new_breach.ref]
    assert report.data["overdue"][0]["days_overdue"] == 6  # working days from Thu 12th to Sun 22nd
    assert [c["ref"] for c in report.data["at_risk"]] == [at_risk.ref]


# ---- a random week, counted independently -----------------------------------------------------

LINES = ("green_outpatient", "green_inpatient", "domestic_second_opinion", "domestic_escort",
         "overseas_second_opinion", "overseas_treatment")


def _random_case(rng: random.Random):
    """Consistent rows: a closed case has its clocks stopped; an open one running, paused or pending."""
    submitted = START - timedelta(days=14) + timedelta(minutes=rng.randrange(0, 60 * 24 * 28))
    status = rng.choice(["submitted", "in_service", "awaiting_documents", "completed", "terminated", "cancelled"])
    closed = submitted + timedelta(minutes=rng.randrange(1, 60 * 24 * 10)) if status not in OPEN else None
    clocks = []
    for kind in ("decision", "report")[:rng.choice([0, 1, 1, 2])]:
        started = submitted + timedelta(minutes=rng.randrange(0, 60 * 24 * 2))
        start_day = calendar.to_business_date(started)
        due = calendar.add_working_days(start_day, rng.choice([1, 2, 3, 5, 10]))
        deadline = calendar.end_of_business_day(due)
        spec = ClockSpec(due, started, kind=kind)
        if closed is not None or rng.random() < 0.3:
            stop = closed or started + timedelta(minutes=rng.randrange(1, 60 * 24 * 12))
            spec.state, spec.stopped = "stopped", max(stop, started)
            late = spec.stopped > deadline
            spec.outcome = "breached" if late else rng.choice(["met", "void"]) if closed else "met"
            spec.breached_at = rng.choice([deadline, spec.stopped]) if late else None
        elif rng.random() < 0.25:
            spec.state, spec.paused_on = "paused", calendar.to_business_date(started)
        elif deadline < REPORT_TIME and rng.random() < 0.7:
            spec.breached_at = deadline  # the sweep has recorded it
        clocks.append(spec)
    return rng.choice(LINES), submitted, status, closed, clocks


def _expected(rows, start, end):
    """The definitions of portal.domain.reports, counted in plain Python over the rows this test made."""
    as_of = calendar.to_business_date(end - timedelta(microseconds=1))
    cutoff = calendar.add_working_days(as_of, 1)
    result = {line: dict.fromkeys((*reports.COUNTS, *reports.SLA), 0) for line in LINES}
    for line, submitted, status, closed, clocks in rows:
        n = result[line]
        open_at_end = submitted < end and (closed >= end if closed else status in OPEN)
        n["opened"] += start <= submitted < end
        n["in_progress"] += open_at_end
        for final in ("completed", "terminated", "cancelled"):
            n[final] += status == final and closed is not None and start <= closed < end
        for c in clocks:
            deadline = calendar.end_of_business_day(c.due)
            breached = c.breached_at is not None or c.outcome == "breached"
            breach_time = c.breached_at or c.stopped
            n["met"] += c.outcome == "met" and start <= c.stopped < end
            n["breached"] += breached and start <= breach_time < end
            live = open_at_end and c.started < end and (c.stopped is None or c.stopped >= end)
            paused = c.state == "paused" and c.paused_on <= as_of
            n["overdue"] += live and ((breached and breach_time < end) or (deadline < end and not paused))
            breached_before = breached and breach_time < end  # a later breach does not change the past
            n["at_risk"] += live and not paused and not breached_before and deadline >= end and c.due <= cutoff
    return result


def test_random_week_figures_equal_an_independent_count(add_case):
    rng = random.Random(47)
    rows = [_random_case(rng) for _ in range(300)]
    for line, submitted, status, closed, clocks in rows:
        add_case(line, submitted, status, closed, clocks)

    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)

    expected = _expected(rows, START, END)
    for line in LINES:
        got = figures(report, line)
        assert {k: got[k] for k in expected[line]} == expected[line], line
    assert sum(e["opened"] for e in expected.values()) > 50  # the data really exercises the week
    assert sum(e["overdue"] for e in expected.values()) > 0
    assert len(report.data["breaches"]) == sum(e["breached"] for e in expected.values())
    assert len(report.data["overdue"]) == sum(e["overdue"] for e in expected.values())
    assert len(report.data["at_risk"]) == sum(e["at_risk"] for e in expected.values())


def test_live_figures_use_now_as_the_end(add_case):
    rng = random.Random(3)
    rows = [_random_case(rng) for _ in range(120)]
    for row in rows:
        add_case(*row)
    now = shanghai(2026, 11, 19, 15, 30)
    start = shanghai(2026, 11, 1, 0)
    got = {f.code: f for f in reports.line_stats(start, now)}
    expected = _expected(rows, start, now)
    for line in LINES:
        assert {k: getattr(got[line], k) for k in expected[line]} == expected[line], line


def test_a_paused_row_without_its_pause_date_is_paused_in_the_report_the_dashboard_and_the_definition(add_case):
    # rows written outside the app (bulk loads) may lack paused_on: the report read such clocks as running,
    # hence overdue, while the dashboard's live count and the SQL definition took them as paused
    started = shanghai(2026, 11, 9, 10)
    paused = add_case("green_outpatient", started, "awaiting_documents",
                      clocks=[ClockSpec(due=date(2026, 11, 13), started=started, state="paused")])
    running = add_case("green_outpatient", started, "in_service",
                       clocks=[ClockSpec(due=date(2026, 11, 13), started=started)])

    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)

    assert [row["ref"] for row in report.data["overdue"]] == [running.ref]
    assert paused.ref not in {row["ref"] for row in report.data["at_risk"]}
    now = shanghai(2026, 11, 25, 10)
    live = {f.code: f for f in reports.period_figures([(START, now)], now=now)[0]}["green_outpatient"]
    scanned = {f.code: f for f in reports.scan_figures([(START, now)])[0]}["green_outpatient"]
    assert (live.overdue, live.at_risk) == (scanned.overdue, scanned.at_risk) == (1, 0)


def test_a_breach_flag_without_its_time_is_decided_alike_whether_or_not_the_case_changed_since(add_case):
    # the report decides a case unchanged since the week's end in SQL and a changed one in Python (`as_of`):
    # a row flagged breached without breached_at (written directly) must fall the same way in both
    from sqlalchemy import update

    from portal.domain import history

    started = shanghai(2026, 11, 16, 10)
    same, moved = (add_case("green_outpatient", started, "in_service",
                            clocks=[ClockSpec(due=date(2026, 11, 23), started=started)]) for _ in range(2))
    db.session.execute(update(SlaClock).where(SlaClock.case_id.in_([same.id, moved.id])).values(breached=True))
    history.append(moved, actor=None, kind="transition", action="request_documents", summary="要求补充资料",
                   from_status="in_service", to_status="awaiting_documents", now=shanghai(2026, 11, 23, 8))
    db.session.commit()

    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)

    assert sorted(row["ref"] for row in report.data["at_risk"]) == sorted([same.ref, moved.ref])


def test_the_dashboard_lists_a_breached_clock_whose_deadline_a_later_pause_moved_past_the_cutoff(add_case):
    # breached by the sweep, then paused and resumed: the pause folded into its due date moved the deadline
    # weeks ahead, and it is still overdue by its breach — the short list must find it off the deadline range
    now = shanghai(2026, 11, 25, 10)
    started = shanghai(2026, 11, 9, 10)
    moved = add_case("green_outpatient", started, "in_service", clocks=[ClockSpec(
        due=date(2026, 12, 18), started=started, breached_at=shanghai(2026, 11, 13, 23, 59))])
    on_time = add_case("green_outpatient", started, "in_service",
                       clocks=[ClockSpec(due=date(2026, 12, 18), started=started)])

    listed = reports.live_list("overdue", now, limit=10)

    assert [row["ref"] for row in listed] == [moved.ref] and on_time.ref not in {r["ref"] for r in listed}


# ---- versions, weeks, immutability -----------------------------------------------------------

def test_rebuilding_adds_a_version_and_keeps_the_earlier_one(add_case):
    add_case("green_outpatient", shanghai(2026, 11, 17))
    first = reports.build_weekly(WEEK, built_by="scheduler", now=REPORT_TIME)
    db.session.commit()
    first_data = dict(first.data)
    add_case("green_outpatient", shanghai(2026, 11, 18))  # late-arriving data changes the next build
    second = reports.build_weekly(WEEK, built_by="cli", now=REPORT_TIME + timedelta(hours=1))
    db.session.commit()
    db.session.expire_all()

    stored = db.session.scalars(select(WeeklyReport).order_by(WeeklyReport.version)).all()
    assert [(r.week, r.version, r.built_by) for r in stored] == [(WEEK, 1, "scheduler"), (WEEK, 2, "cli")]
    assert stored[0].id == first.id and stored[0].data == first_data
    assert stored[0].data["total"]["opened"] == 1 and stored[1].data["total"]["opened"] == 2
    assert second.id == stored[1].id


def test_a_stored_report_can_be_neither_changed_nor_deleted(add_case):
    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)
    db.session.commit()
    report.built_by = "someone else"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(WeeklyReport, report.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_default_week_is_the_previous_iso_week_in_shanghai(app, product):
    # Monday 00:30 in Shanghai is still Sunday in UTC: the report is for the week just ended, not the one before
    now = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    assert reports.previous_week(now) == "2026-W47"
    assert reports.build_weekly(built_by="scheduler", now=now).week == "2026-W47"
    assert reports.previous_week(datetime(2027, 1, 4, 1, 0, tzinfo=SH)) == "2026-W53"


@pytest.mark.parametrize("week", ["2026-47", "2026-W1", "2026-W54", "2025-W53", "W47", ""])
def test_malformed_or_impossible_weeks_are_refused_in_chinese(app, product, week):
    with pytest.raises(DomainError) as error:
        reports.build_weekly(week, built_by="test", now=REPORT_TIME)
    assert "YYYY-Www" in error.value.message


def test_a_week_not_yet_started_is_refused(app, product):
    with pytest.raises(DomainError, match="尚未开始"):
        reports.build_weekly("2026-W49", built_by="test", now=REPORT_TIME)


def test_a_report_built_during_its_week_says_it_is_incomplete(app, product):
    assert reports.build_weekly("2026-W48", built_by="test", now=REPORT_TIME).data["complete"] is False
    assert reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME).data["complete"] is True


def test_report_rows_give_the_stored_numbers_for_page_csv_and_xlsx(add_case):
    add_case("green_inpatient", shanghai(2026, 11, 17))
    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)
    sections = {s.key: s for s in reports.report_rows(report)}
    assert list(sections) == ["figures", "breaches", "overdue", "at_risk", "corrections", "ratings"]
    figures_rows = sections["figures"].rows
    assert len(figures_rows) == len(report.data["lines"]) + 1 and figures_rows[-1][0] == "合计"
    inpatient = next(row for row in figures_rows if row[0] == "就医绿通·住院预约")
    assert inpatient[1:3] == [1, 1]  # opened, in progress
    assert all(len(row) == len(sections["figures"].header) for row in figures_rows)


def test_the_build_costs_the_same_few_queries_for_any_number_of_cases(add_case):
    def queries_for_build():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        db.session.rollback()
        return len(statements)

    add_case("green_outpatient", shanghai(2026, 11, 17))
    few = queries_for_build()
    rng = random.Random(5)
    for _ in range(150):
        add_case(*_random_case(rng))
    # 12, 7 for the audit checkpoint the report carries (issue 16), 2 for the corrections list and the
    # delivery to 史带 (issue 17), 1 for the savepoint that makes the version race-free (issue 18), 1 for the
    # service ratings (issue 14), 1 for the clocks of cases changed since the week's end, read apart, and on
    # PostgreSQL 2 for the checkpoint's snapshot and cluster (issue 20)
    watermark = 2 if db.engine.dialect.name == "postgresql" else 0
    assert queries_for_build() == few <= 12 + 7 + 2 + 1 + 1 + 1 + watermark


# ---- through the real domain: intake and lifecycle -------------------------------------------

def test_cases_worked_through_the_lifecycle_are_counted(app, product, make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    monday = shanghai(2026, 11, 16, 9)
    done = open_case(make_policy, directory, "green_outpatient", monday, staff.coord)
    walk(done, staff.coord, [
        ("verify", monday + timedelta(hours=1), {}),
        ("accept", monday + timedelta(hours=2), {}),
        ("confirm_hospital", monday + timedelta(hours=3), {"hospital_id": directory.bj.id, "department": "肿瘤内科"}),
        ("book_appointment", monday + timedelta(days=1), {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                                         "scheduled_at": shanghai(2026, 11, 20, 9)}),
        ("record_visit", shanghai(2026, 11, 20, 12), {"outcome": "visited"}),
    ])
    stopped = open_case(make_policy, directory, "domestic_escort", monday, staff.coord)
    walk(stopped, staff.coord, [("terminate", monday + timedelta(days=2), {"reason": "insured_withdrew"})])
    open_case(make_policy, directory, "green_outpatient", shanghai(2026, 11, 18, 9), staff.coord)
    db.session.commit()

    report = reports.build_weekly(WEEK, built_by="test", now=REPORT_TIME)

    green = figures(report, "green_outpatient")
    assert (green["opened"], green["in_progress"], green["completed"], green["met"]) == (2, 1, 1, 1)
    escort = figures(report, "domestic_escort")
    assert (escort["opened"], escort["terminated"], escort["met"], escort["breached"]) == (1, 1, 0, 0)
    assert report.data["total"]["compliance"] == 100.0


# ---- as of the week's end: a rebuild after later events equals the first build (issue 17 item 7) ------

def _worked_week(make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    monday = shanghai(2026, 11, 16, 9)
    # due Monday 23rd (5 working days from the 16th): at risk at the week's end, breached by the sweep later
    breaches_later = open_case(make_policy, directory, "green_outpatient", monday, staff.coord)
    walk(breaches_later, staff.coord, [("verify", monday + timedelta(hours=1), {})])
    # due the 23rd too; its case waits for documents from the 23rd to the 25th, which moves the due date
    paused_later = open_case(make_policy, directory, "green_outpatient", monday, staff.coord)
    walk(paused_later, staff.coord, [("verify", monday + timedelta(hours=1), {})])
    # waits for documents over the week's end: neither at risk nor overdue then, resumed the next week
    paused_at_end = open_case(make_policy, directory, "green_outpatient", monday, staff.coord)
    walk(paused_at_end, staff.coord, [
        ("verify", monday + timedelta(hours=1), {}),
        ("request_documents", shanghai(2026, 11, 19, 10), {"kinds": ["medical_record"], "reason": "病历不清晰"})])
    return staff, breaches_later, paused_later, paused_at_end


def _later_events(staff, breaches_later, paused_later, paused_at_end):
    walk(paused_later, staff.coord, [
        ("request_documents", shanghai(2026, 11, 23, 10), {"kinds": ["medical_record"], "reason": "病历不清晰"}),
        ("documents_received", shanghai(2026, 11, 25, 10), {})])
    walk(paused_at_end, staff.coord, [("documents_received", shanghai(2026, 11, 24, 10), {})])
    walk(breaches_later, staff.coord, [("accept", shanghai(2026, 11, 23, 11), {})])
    sweep.sweep(now=shanghai(2026, 11, 24, 0, 30))
    db.session.commit()


def test_a_rebuild_after_later_breaches_pauses_and_resumes_equals_the_first_build(app, product, make_policy,
                                                                                  make_user):
    staff, breaches_later, paused_later, paused_at_end = _worked_week(make_policy, make_user)
    first = reports.build_weekly(WEEK, built_by="scheduler", now=REPORT_TIME)
    db.session.commit()
    original = json.loads(json.dumps(first.data))
    assert {c["ref"] for c in original["at_risk"]} == {breaches_later.ref, paused_later.ref}
    assert figures(first, "green_outpatient")["at_risk"] == 2

    _later_events(staff, breaches_later, paused_later, paused_at_end)
    db.session.expire_all()
    clock = db.session.scalars(select(SlaClock).where(SlaClock.case_id == breaches_later.id)).one()
    assert clock.breached  # the past really moved on: breached, paused, resumed since the first build
    moved = db.session.scalars(select(SlaClock).where(SlaClock.case_id == paused_later.id)).one()
    assert moved.due_date == date(2026, 11, 25)

    rebuilt = reports.build_weekly(WEEK, built_by="cli", now=shanghai(2026, 11, 26, 9))
    assert rebuilt.version == 2
    assert rebuilt.data == original


def test_the_live_figures_still_follow_the_clocks_now(app, product, make_policy, make_user):
    staff, breaches_later, paused_later, paused_at_end = _worked_week(make_policy, make_user)
    _later_events(staff, breaches_later, paused_later, paused_at_end)
    now = shanghai(2026, 11, 24, 9)
    overdue = {row.case_id for row in db.session.execute(
        select(SlaClock.case_id).join(Case, SlaClock.case_id == Case.id).where(reports.overdue_at(now)))}
    assert overdue == {breaches_later.id}
