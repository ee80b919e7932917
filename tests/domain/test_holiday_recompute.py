"""Issue 17 items 1, 2, 5, 6: what a holiday notice may say, and what importing it does to every clock.

Dates by hand: 2026 is a library year (2026-12-31 Thu is a working day); 2027 has no data until the test's
complete notice (tests/helpers.notice_2027: 元旦 2027-01-01 off, 春节 02-06..12 off, Sunday 02-14 works, ...)."""

import json
from datetime import date, timedelta

import pytest
from casework import at, walk
from helpers import notice_2027
from sqlalchemy import select

from portal import calendar
from portal.domain import reports
from portal.domain.holidays import import_notice
from portal.extensions import db
from portal.holiday_notice import NoticeError, parse_notice
from portal.models import CaseEvent, HolidayOverride

D = date


def clock(case, kind="arrange"):
    return next(c for c in case.clocks if c.kind == kind)


def load(payload) -> object:
    return parse_notice(json.dumps(payload, ensure_ascii=False))


# --- item 1: paused working days are recounted --------------------------------------------------------------


def test_a_pause_into_a_provisional_year_is_recounted_when_the_notice_arrives(open_, staff):
    case = open_("green_outpatient", at(2026, 12, 28, 9))
    walk(case, staff.coord, [
        ("verify", at(2026, 12, 28, 10), {}),
        ("request_documents", at(2026, 12, 30, 10), {"kinds": ["ct"], "reason": "CT 报告不清晰"}),
        ("documents_received", at(2027, 1, 5, 10), {}),
    ])
    c = clock(case)
    # Monday–Friday assumed: paused 12-31, 01-01, 01-04, 01-05 = 4; 5 + 4 working days after 12-28 → 01-08
    assert (c.paused_days, c.due_date, c.provisional) == (4, D(2027, 1, 8), True)
    import_notice(load(notice_2027()))
    db.session.commit()
    # 元旦 off: paused 12-31, 01-04, 01-05 = 3; 12-29, 12-30, 12-31, 01-04 .. 01-08 is the 8th working day
    assert (c.paused_days, c.due_date, c.provisional) == (3, D(2027, 1, 8), False)
    assert c.pauses == [["2026-12-30", "2027-01-05"]]


def test_without_the_recount_the_deadline_would_be_a_working_day_late(open_, staff):
    """The figures of the issue: a stale 4 on the official calendar puts the deadline on 01-11, not 01-08."""
    import_notice(load(notice_2027()))
    db.session.commit()
    assert calendar.add_working_days(D(2026, 12, 28), 5 + 4) == D(2027, 1, 11)
    assert calendar.add_working_days(D(2026, 12, 28), 5 + 3) == D(2027, 1, 8)


# --- item 2: stopped clocks are recomputed; met ⇄ breached recorded with the reason --------------------------


def _arranged(case, staff, directory, when):
    # the visit a week after booking: within the policy period (issue 14 refuses bookings after its end)
    return walk(case, staff.coord, [
        ("verify", when, {}), ("accept", when, {}),
        ("confirm_hospital", when, {"hospital_id": directory.bj.id}),
        ("book_appointment", when, {"hospital_id": directory.bj.id, "department": "内科",
                                    "scheduled_at": when + timedelta(days=7)}),
    ])


def test_a_stopped_clock_breached_on_the_assumed_calendar_is_met_on_the_official_one(open_, staff, directory):
    case = open_("green_outpatient", at(2026, 12, 29, 9))
    assert clock(case).due_date == D(2027, 1, 5)               # 12-30, 12-31, 01-01, 01-04, 01-05 (Mon–Fri)
    _arranged(case, staff, directory, at(2027, 1, 6, 10))
    c = clock(case)
    assert (c.state, c.outcome, c.breached, c.provisional) == ("stopped", "breached", True, True)
    import_notice(load(notice_2027()), now=at(2027, 1, 7, 9))
    db.session.commit()
    assert (c.due_date, c.outcome, c.breached, c.breached_at, c.provisional) == (
        D(2027, 1, 6), "met", False, None, False)
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                       CaseEvent.action == "outcome_corrected")).one()
    assert event.summary == ("安排时限结果由“超时”更正为“按时完成”：导入 2027 年国务院放假通知，"
                             "应完成日期由 2027-01-05 改为 2027-01-06")
    assert (event.data["from"], event.data["to"]) == ("breached", "met")


def test_a_make_up_working_day_can_turn_a_met_clock_into_a_breach(open_, staff, directory):
    case = open_("green_outpatient", at(2027, 4, 19, 9))
    assert clock(case).due_date == D(2027, 4, 26)               # 04-20..23, 04-26 (Mon–Fri)
    _arranged(case, staff, directory, at(2027, 4, 26, 10))
    assert clock(case).outcome == "met"
    sunday_works = {"name": "劳动节", "date": "2027-04-25", "isOffDay": False}
    import_notice(load(notice_2027(sunday_works)), now=at(2027, 4, 27, 9))
    db.session.commit()
    c = clock(case)
    assert (c.due_date, c.outcome, c.breached) == (D(2027, 4, 25), "breached", True)
    report = reports.build_weekly("2027-W17", built_by="test", now=at(2027, 5, 3, 9))
    assert [(r["ref"], r["from"], r["to"]) for r in report.data["corrections"]] == [(case.ref, "met", "breached")]


def test_the_import_leaves_clocks_of_other_years_alone(open_, staff, directory):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    _arranged(case, staff, directory, at(2026, 6, 2, 10))
    before = (clock(case).due_date, clock(case).outcome)
    import_notice(load(notice_2027()))
    assert (clock(case).due_date, clock(case).outcome) == before


# --- item 5: dates of another year ----------------------------------------------------------------------------


def test_a_notice_may_not_turn_an_official_working_day_of_the_year_before_into_a_holiday(app, product):
    bridge = {"name": "元旦", "date": "2026-12-31", "isOffDay": True}
    with pytest.raises(NoticeError) as error:
        import_notice(load(notice_2027(bridge)))
    assert str(error.value) == ("日期“2026-12-31”（元旦）标为放假，与系统内置的国务院放假安排不符（该日为工作日）")
    db.session.rollback()
    assert calendar.is_working_day(D(2026, 12, 31))
    assert db.session.scalar(select(HolidayOverride.id)) is None


def test_a_date_of_the_next_year_away_from_the_new_year_is_refused():
    stray = {"name": "元旦", "date": "2028-01-14", "isOffDay": True}
    with pytest.raises(NoticeError) as error:
        load(notice_2027(stray))
    assert "日期“2028-01-14”属于 2028 年：2027 年的通知只能列出与 2027 年相连的跨年假期" in str(error.value)


def test_a_run_across_the_new_year_may_list_the_next_years_first_days(app, product):
    run = [{"name": "元旦", "date": d, "isOffDay": True} for d in ("2027-12-31", "2028-01-01")]
    notice = load(notice_2027(*run))                            # 2028 has no data: nothing to contradict
    import_notice(notice)
    assert not calendar.is_working_day(D(2027, 12, 31)) and not calendar.is_working_day(D(2028, 1, 1))


def test_a_later_notice_may_not_contradict_an_earlier_import(app, product):
    import_notice(load(notice_2027()))
    db.session.commit()
    days = [{"name": "元旦", "date": d, "isOffDay": True} for d in ("2027-12-31", "2028-01-01", "2028-01-02")]
    for name, day in (("春节", "2028-01-26"), ("清明节", "2028-04-04"), ("劳动节", "2028-05-01"),
                      ("端午节", "2028-05-28"), ("中秋节、国庆节", "2028-10-03")):
        days.append({"name": name, "date": day, "isOffDay": True})
    with pytest.raises(NoticeError) as error:
        import_notice(load({"year": 2028, "days": days}))
    assert str(error.value) == "日期“2027-12-31”（元旦）标为放假，与已导入的 2027 年通知不符（该日为工作日）"


def test_a_one_entry_notice_for_a_library_year_changes_nothing(app, product):
    with pytest.raises(NoticeError) as error:
        import_notice(load({"year": 2026, "days": [{"name": "元旦", "date": "2026-12-31", "isOffDay": True}]}))
    assert "2026 年通知不完整" in str(error.value)
    db.session.rollback()
    assert calendar.is_working_day(D(2026, 12, 31))


# --- item 6: only a complete notice makes a year official ------------------------------------------------------


def test_a_one_day_notice_is_refused_and_the_year_stays_provisional(app, product):
    with pytest.raises(NoticeError) as error:
        import_notice(load({"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]}))
    assert str(error.value).startswith("2027 年通知不完整，缺少：春节、清明节、劳动节、端午节、中秋节、国庆节。")
    assert "不完整的通知不予导入，2027 年仍为暂定" in str(error.value)
    db.session.rollback()
    assert calendar.is_provisional(D(2027, 2, 8)) and calendar.is_working_day(D(2027, 2, 8))


def test_combined_holiday_names_count_for_each_holiday(app, product):
    payload = notice_2027(without=("中秋节", "国庆节"))
    payload["days"].append({"name": "中秋节、国庆节", "date": "2027-10-01", "isOffDay": True})
    import_notice(load(payload))
    assert not calendar.is_provisional(D(2027, 6, 1))
    assert not calendar.is_working_day(D(2027, 2, 8))        # 春节 counted as off, not Monday–Friday
