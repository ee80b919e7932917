"""SLA clocks around 春节, 国庆 and 调休 weekends; every expected date worked out by hand from the
State Council notices (2024: 国庆 10-01..07 off, 09-29 Sun and 10-12 Sat work; 春节 02-10..17 off, 02-04 Sun and
02-18 Sun work. 2025: 春节 01-28..02-04 off, 01-26 Sun and 02-08 Sat work; 国庆 10-01..08 off, 09-28 Sun and
10-11 Sat work. 2026: 春节 02-15..23 off, 02-14 Sat and 02-28 Sat work; 端午 06-19..21 off; 中秋 09-25..27 off;
国庆 10-01..07 off, 09-20 Sun and 10-10 Sat work). The start day is never counted."""

import json
from datetime import UTC, date, datetime

import pytest
from casework import at, open_case, walk
from helpers import accept_required_documents, notice_2027
from sqlalchemy import select

from portal import calendar
from portal.domain import lifecycle, sla
from portal.domain.holidays import import_notice
from portal.extensions import db
from portal.holiday_notice import parse_notice
from portal.models import Notification

D = date


def clock(case, kind):
    return next(c for c in case.clocks if c.kind == kind)


# --- clocks that start when the request is submitted ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "submitted", "due"),
    [
        # 国庆 2025: 10-09 Thu 1, 10-10 Fri 2, 10-11 Sat (调休) 3, 10-13 Mon 4, 10-14 Tue 5
        ("green_outpatient", "arrange", D(2025, 9, 30), D(2025, 10, 14)),
        # 国庆 2024: 10-10 Thu 1, 10-11 Fri 2, 10-12 Sat (调休) 3, 10-14 Mon 4, 10-15 Tue 5
        ("green_outpatient", "arrange", D(2024, 10, 9), D(2024, 10, 15)),
        # 春节 2024: 02-09 Fri 1, 02-18 Sun (调休) 2, 02-19 Mon 3, 02-20 Tue 4, 02-21 Wed 5
        ("green_outpatient", "arrange", D(2024, 2, 8), D(2024, 2, 21)),
        # 春节 2026: 02-14 Sat (调休) 1, 02-24 Tue 2, 02-25 3, 02-26 4, 02-27 Fri 5
        ("green_outpatient", "arrange", D(2026, 2, 13), D(2026, 2, 27)),
        # after 春节 2026: 02-25 1, 02-26 2, 02-27 3, 02-28 Sat (调休) 4, 03-02 Mon 5
        ("green_outpatient", "arrange", D(2026, 2, 24), D(2026, 3, 2)),
        # 国庆 2025: 09-28 Sun (调休) 1, 09-29 2, 09-30 3, 10-09 Thu 4, 10-10 Fri 5
        ("domestic_escort", "arrange", D(2025, 9, 26), D(2025, 10, 10)),
        # 国庆 2024: 09-29 Sun (调休) 1, 09-30 Mon 2, 10-08 Tue 3, 10-09 Wed 4, 10-10 Thu 5
        ("domestic_escort", "arrange", D(2024, 9, 27), D(2024, 10, 10)),
        # 春节 2024: 02-04 Sun (调休) 1, 02-05 Mon 2, 02-06 3, 02-07 4, 02-08 Thu 5
        ("domestic_escort", "arrange", D(2024, 2, 2), D(2024, 2, 8)),
        # 春节 2025: 02-05 Wed 1, 02-06 Thu 2
        ("overseas_second_opinion", "decision", D(2025, 1, 27), D(2025, 2, 6)),
        # 国庆 2025: 10-09 Thu 1, 10-10 Fri 2
        ("overseas_second_opinion", "decision", D(2025, 9, 30), D(2025, 10, 10)),
        # 国庆 2026: 10-08 Thu 1, 10-09 Fri 2
        ("overseas_second_opinion", "decision", D(2026, 9, 30), D(2026, 10, 9)),
        # 春节 2025: 01-26 Sun (调休) 1, 01-27 Mon 2, 02-05 Wed 3
        ("overseas_treatment", "decision", D(2025, 1, 24), D(2025, 2, 5)),
        # 春节 2026: 02-14 Sat (调休) 1, 02-24 Tue 2, 02-25 Wed 3
        ("overseas_treatment", "decision", D(2026, 2, 13), D(2026, 2, 25)),
        # 国庆 2026 调休: 09-17 Thu 1, 09-18 Fri 2, 09-20 Sun (调休) 3 — due on a Sunday
        ("overseas_treatment", "decision", D(2026, 9, 16), D(2026, 9, 20)),
    ],
)
def test_clock_started_at_submission_is_due_on_the_hand_counted_working_day(open_, line, kind, submitted, due):
    case = open_(line, at(submitted.year, submitted.month, submitted.day, 10))
    c = clock(case, kind)
    assert (c.state, c.start_date, c.due_date, c.provisional) == ("running", submitted, due, False)
    assert c.deadline == datetime(due.year, due.month, due.day, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Shanghai


# --- green inpatient: from the admission slip ----------------------------------------------------------


@pytest.mark.parametrize(
    ("slip", "due"),
    [
        # 春节 2025: 01-26 Sun (调休) 1, 01-27 Mon 2, 02-05 3, 02-06 4, 02-07 5, 02-08 Sat (调休) 6,
        # 02-10 Mon 7, 02-11 8, 02-12 9, 02-13 Thu 10
        (D(2025, 1, 24), D(2025, 2, 13)),
        # 国庆 2026: 10-08 1, 10-09 2, 10-10 Sat (调休) 3, 10-12..16 4-8, 10-19 9, 10-20 Tue 10
        (D(2026, 9, 30), D(2026, 10, 20)),
    ],
)
def test_inpatient_clock_given_the_slip_at_intake_counts_from_the_slip_date(open_, slip, due):
    case = open_("green_inpatient", at(slip.year, slip.month, slip.day, 16), admission_slip_date=slip.isoformat())
    assert (clock(case, "arrange").start_date, clock(case, "arrange").due_date) == (slip, due)


def test_inpatient_clock_waits_for_the_slip_and_counts_from_it_when_confirmed(open_, directory, staff):
    case = open_("green_inpatient", at(2025, 1, 24, 9))
    assert clock(case, "arrange").state == "pending"
    assert sla.promise(case) is None
    walk(case, staff.coord, [
        ("verify", at(2025, 1, 24, 10), {}),
        ("accept", at(2025, 1, 24, 11), {}),
        ("confirm_hospital", at(2025, 1, 27, 10),
         {"hospital_id": directory.bj.id, "department": "肿瘤内科", "admission_slip_date": D(2025, 1, 24)}),
    ])
    assert (clock(case, "arrange").start_date, clock(case, "arrange").due_date) == (D(2025, 1, 24), D(2025, 2, 13))


def test_inpatient_slip_issued_after_the_request_starts_the_count_on_the_slip_date(open_, directory, staff):
    case = open_("green_inpatient", at(2026, 2, 12, 9))
    walk(case, staff.coord, [
        ("verify", at(2026, 2, 12, 10), {}),
        ("accept", at(2026, 2, 12, 11), {}),
        ("confirm_hospital", at(2026, 2, 24, 10),
         {"hospital_id": directory.bj.id, "department": "心内科", "admission_slip_date": D(2026, 2, 24)}),
    ])
    # 02-25 1, 02-26 2, 02-27 3, 02-28 Sat (调休) 4, 03-02..06 5-9, 03-09 Mon 10
    assert clock(case, "arrange").due_date == D(2026, 3, 9)


# --- clocks that start when the materials are complete ----------------------------------------------------


def test_domestic_second_opinion_report_is_due_10_working_days_after_materials_complete_over_chunjie(open_, staff):
    case = open_("domestic_second_opinion", at(2026, 2, 10))
    assert clock(case, "report").state == "pending"
    walk(case, staff.coord, [("verify", at(2026, 2, 10, 11), {}), ("accept", at(2026, 2, 11), {})])
    accept_required_documents(case, staff.coord, now=at(2026, 2, 12, 14))
    walk(case, staff.coord, [("materials_complete", at(2026, 2, 12, 15), {})])
    # 02-13 Fri 1, 02-14 Sat (调休) 2, 02-24 3, 02-25 4, 02-26 5, 02-27 6, 02-28 Sat (调休) 7,
    # 03-02 8, 03-03 9, 03-04 10
    assert (clock(case, "report").start_date, clock(case, "report").due_date) == (D(2026, 2, 12), D(2026, 3, 4))
    assert sla.promise(case).text == "我们将最晚于 3月4日（周三）前向您提供报告"


def test_domestic_second_opinion_report_over_guoqing_2025(open_, staff):
    case = open_("domestic_second_opinion", at(2025, 9, 29))
    walk(case, staff.coord, [("verify", at(2025, 9, 29, 11), {}), ("accept", at(2025, 9, 29, 12), {})])
    accept_required_documents(case, staff.coord, now=at(2025, 9, 30, 14))
    walk(case, staff.coord, [("materials_complete", at(2025, 9, 30, 15), {})])
    # 10-09 1, 10-10 2, 10-11 Sat (调休) 3, 10-13..17 4-8, 10-20 9, 10-21 Tue 10
    assert clock(case, "report").due_date == D(2025, 10, 21)


def test_overseas_second_opinion_decision_in_2_and_report_in_20_working_days(open_, staff):
    case = open_("overseas_second_opinion", at(2025, 9, 30))
    assert clock(case, "decision").due_date == D(2025, 10, 10)
    # the year is named unless it is the current one (issue 14)
    assert sla.promise(case).text == f"我们将最晚于 {calendar.format_cn_date(D(2025, 10, 10))}前告知您是否启动服务"
    walk(case, staff.coord, [("verify", at(2025, 9, 30, 11), {}),
                             ("launch_decision", at(2025, 10, 9, 10), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2025, 10, 10, 15))
    walk(case, staff.coord, [("materials_complete", at(2025, 10, 10, 16), {})])
    assert (clock(case, "decision").state, clock(case, "decision").outcome) == ("stopped", "met")
    # 10-11 Sat (调休) 1, 10-13..17 2-6, 10-20..24 7-11, 10-27..31 12-16, 11-03 17, 11-04 18, 11-05 19, 11-06 20
    assert (clock(case, "report").start_date, clock(case, "report").due_date) == (D(2025, 10, 10), D(2025, 11, 6))


def test_overseas_treatment_decision_in_3_and_treatment_in_40_working_days(open_, staff, directory):
    case = open_("overseas_treatment", at(2026, 9, 16))
    assert clock(case, "decision").due_date == D(2026, 9, 20)
    walk(case, staff.coord, [("verify", at(2026, 9, 16, 11), {}), ("accept", at(2026, 9, 16, 12), {}),
                             ("launch_decision", at(2026, 9, 17, 10), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2026, 9, 18, 15))
    walk(case, staff.coord, [("materials_complete", at(2026, 9, 18, 16), {}),
                             ("history_translated", at(2026, 9, 18, 16, 10), {}),
                             ("consent_abroad", at(2026, 9, 18, 16), {"hospital_id": directory.us.id}),
                             ("hospital_accepted", at(2026, 9, 18, 16, 20), {"hospital_id": directory.us.id}),
                             ("visa_applied", at(2026, 9, 18, 16, 30), {"applied_on": D(2026, 9, 18)})])
    assert clock(case, "treatment").state == "pending"  # the visa is not granted yet
    walk(case, staff.coord, [("visa_granted", at(2026, 9, 18, 17), {"decided_on": D(2026, 9, 18)})])
    # 09-20 Sun (调休) 1, 09-21..24 2-5 (09-25 中秋 off), 09-28..30 6-8, 10-08 9, 10-09 10, 10-10 Sat (调休) 11,
    # 10-12..16 12-16, 10-19..23 17-21, 10-26..30 22-26, 11-02..06 27-31, 11-09..13 32-36, 11-16..19 37-40
    assert (clock(case, "treatment").start_date, clock(case, "treatment").due_date) == (D(2026, 9, 18),
                                                                                       D(2026, 11, 19))
    assert sla.promise(case).text == "我们将最晚于 11月19日（周四）前为您安排海外就医"


# --- pause and resume ----------------------------------------------------------------------------------


def test_waiting_three_working_days_for_documents_moves_the_due_date_three_working_days(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    assert clock(case, "arrange").due_date == D(2026, 6, 8)  # 06-02..05 1-4, 06-08 Mon 5
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("request_documents", at(2026, 6, 2, 10), {"kinds": ["ct"], "reason": "CT 报告不清晰"})])
    c = clock(case, "arrange")
    assert (c.state, c.paused_on) == ("paused", D(2026, 6, 2))
    assert sla.promise(case) is None  # no promise while we wait on the insured
    walk(case, staff.coord, [("documents_received", at(2026, 6, 5, 10), {})])
    # paused 06-03, 06-04, 06-05 = 3 working days → 06-09 1, 06-10 2, 06-11 3 after the old due date
    assert (c.state, c.paused_days, c.due_date) == ("running", 3, D(2026, 6, 11))
    assert case.status == "verifying"


def test_a_pause_over_duanwu_extends_only_by_the_working_days_paused(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 15, 9))
    assert clock(case, "arrange").due_date == D(2026, 6, 23)  # 06-16 1, 06-17 2, 06-18 3, 06-22 Mon 4, 06-23 5
    walk(case, staff.coord, [("verify", at(2026, 6, 15, 10), {}), ("accept", at(2026, 6, 15, 11), {}),
                             ("request_documents", at(2026, 6, 18, 10),
                              {"kinds": ["medical_record"], "reason": "缺页"}),
                             ("documents_received", at(2026, 6, 22, 10), {})])
    # paused Thu 06-18 → Mon 06-22: 06-19..21 are 端午 and weekend, so only 06-22 counts
    assert (clock(case, "arrange").paused_days, clock(case, "arrange").due_date) == (1, D(2026, 6, 24))
    assert case.status == "in_service"


def test_a_paused_clock_shows_its_moving_due_date_and_days_left(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("request_documents", at(2026, 6, 2, 10), {"kinds": ["ct"], "reason": "缺 CT"})])
    c = clock(case, "arrange")
    assert sla.effective_due_date(c, D(2026, 6, 4)) == D(2026, 6, 10)  # 2 days paused so far
    assert sla.working_days_left(c, D(2026, 6, 4)) == 4  # 06-05, 06-08, 06-09, 06-10


# --- stop, breach and void ------------------------------------------------------------------------------


def _arrange_at(case, staff, directory, when):
    walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
        ("confirm_hospital", at(2026, 6, 1, 12), {"hospital_id": directory.bj.id, "department": "肿瘤内科"}),
        ("book_appointment", when, {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                    "scheduled_at": at(2026, 6, 20, 9)}),
    ])
    return clock(case, "arrange")


def test_arranged_in_the_last_second_of_the_due_date_is_met(open_, staff, directory):
    c = _arrange_at(open_("green_outpatient", at(2026, 6, 1, 9)), staff, directory, at(2026, 6, 8, 23, 59, 59))
    assert (c.state, c.outcome, c.breached, c.breached_at) == ("stopped", "met", False, None)


def test_arranged_one_second_late_is_breached_and_stays_breached_after_completion(open_, staff, directory):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    c = _arrange_at(case, staff, directory, at(2026, 6, 9, 0, 0, 0))
    assert (c.outcome, c.breached, c.breached_at) == ("breached", True, at(2026, 6, 8, 23, 59, 59))
    walk(case, staff.coord, [("record_visit", at(2026, 6, 20, 12), {"outcome": "visited"})])
    db.session.expire_all()
    c = clock(case, "arrange")
    assert (case.status, c.state, c.outcome, c.breached) == ("completed", "stopped", "breached", True)
    assert (c.stopped_at, c.breached_at) == (at(2026, 6, 9, 0, 0, 0), at(2026, 6, 8, 23, 59, 59))
    breaches = [e for e in case.events if e.action == "breached"]
    assert [(e.kind, e.internal, e.actor_role, e.summary) for e in breaches] == [
        ("clock", True, "system", "安排时限已超期（应于 6月8日（周一）前完成）")]


def test_a_breach_flagged_while_running_is_kept_even_if_the_deadline_later_moves(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    c = clock(case, "arrange")
    c.breached, c.breached_at = True, at(2026, 6, 9, 0, 5)  # e.g. set by the deadline sweep
    sla.stop(case, "arranged", now=at(2026, 6, 5, 10))
    assert (c.outcome, c.breached, c.breached_at) == ("breached", True, at(2026, 6, 9, 0, 5))


def test_a_case_ended_before_its_deadline_voids_the_clock(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("terminate", at(2026, 6, 3, 10), {"reason": "duplicate"})])
    c = clock(case, "arrange")
    assert (c.state, c.outcome, c.breached) == ("stopped", "void", False)


def test_a_case_ended_after_its_deadline_without_the_milestone_is_breached(open_, staff):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("terminate", at(2026, 6, 9, 10), {"reason": "materials_missing"})])
    c = clock(case, "arrange")
    assert (c.state, c.outcome, c.breached) == ("stopped", "breached", True)


def test_a_clock_that_never_started_ends_void(open_, staff):
    case = open_("domestic_second_opinion", at(2026, 6, 1, 9))
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("terminate", at(2026, 8, 1, 10), {"reason": "materials_missing"})])
    assert (clock(case, "report").outcome, clock(case, "report").due_date) == ("void", None)


def test_the_decision_clock_stops_met_when_the_launch_is_declined(open_, staff):
    case = open_("overseas_second_opinion", at(2026, 6, 1, 9))
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("launch_decision", at(2026, 6, 2, 10), {"launch": False, "note": "病情不适合"})])
    assert (clock(case, "decision").outcome, clock(case, "report").outcome) == ("met", "void")


# --- provisional years and their recomputation -----------------------------------------------------------


NOTICE_2027 = json.dumps(notice_2027(), ensure_ascii=False)  # complete: 元旦 2027-01-01 off


def test_a_due_date_in_a_year_without_data_is_provisional_until_the_notice_is_imported(open_):
    case = open_("green_outpatient", at(2026, 12, 29, 10))
    c = clock(case, "arrange")
    # Monday–Friday assumed for 2027: 12-30 1, 12-31 2, 01-01 Fri 3, 01-04 4, 01-05 Tue 5
    assert (c.due_date, c.provisional) == (D(2027, 1, 5), True)
    due = calendar.format_cn_date(D(2027, 1, 5))  # with the year unless it is the current one (issue 14)
    assert sla.promise(case) == sla.Promise(f"我们将最晚于 {due}前为您安排", D(2027, 1, 5), True)
    told = db.session.scalar(select(Notification.body).where(Notification.case_id == case.id))
    assert told.endswith(f"我们将最晚于 {due}前为您安排（暂定）。")  # the insured's notice keeps saying so

    assert import_notice(parse_notice(NOTICE_2027)) == 1
    # with 元旦 off: 12-30 1, 12-31 2, 01-04 3, 01-05 4, 01-06 Wed 5
    assert (c.due_date, c.provisional) == (D(2027, 1, 6), False)
    assert c.deadline == datetime(2027, 1, 6, 15, 59, 59, tzinfo=UTC)
    due = calendar.format_cn_date(D(2027, 1, 6))
    assert sla.promise(case) == sla.Promise(f"我们将最晚于 {due}前为您安排", D(2027, 1, 6), False)
    moved = db.session.scalars(select(Notification).where(Notification.title == "服务时限已调整")).one()
    assert f"最晚于 {due}前为您安排" in moved.body  # the insured is told the promise moved (issue 14)


def test_recompute_leaves_clocks_of_known_years_and_stopped_clocks_alone(open_, staff):
    known = open_("green_outpatient", at(2026, 6, 1, 9))
    assert sla.recompute_provisional() == 0
    assert clock(known, "arrange").due_date == D(2026, 6, 8)


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "left"),
    [(D(2026, 6, 1), 5), (D(2026, 6, 6), 1), (D(2026, 6, 8), 0), (D(2026, 6, 9), -1), (D(2026, 6, 12), -4)],
)
def test_working_days_left_counts_to_the_due_date_and_below_zero_when_overdue(open_, today, left):
    case = open_("green_outpatient", at(2026, 6, 1, 9))  # due Mon 2026-06-08
    assert sla.working_days_left(clock(case, "arrange"), today) == left


def test_clock_labels_come_from_product_data():
    assert [sla.clock_label(k) for k in ("arrange", "decision", "report", "treatment")] == [
        "安排时限", "启动决定时限", "报告时限", "安排就医时限"]


def test_no_promise_once_the_case_is_arranged(open_, staff, directory):
    case = open_("green_outpatient", at(2026, 6, 1, 9))
    assert sla.promise(case).text == "我们将最晚于 6月8日（周一）前为您安排"
    _arrange_at(case, staff, directory, at(2026, 6, 3, 10))
    assert sla.promise(case) is None


def test_clock_rows_are_created_for_a_case_without_them(make_policy, directory, staff):
    """Older cases (or a case made by hand) still get their clock when it starts."""
    case = open_case(make_policy, directory, "domestic_second_opinion", at(2026, 6, 1, 9), staff.coord)
    for c in list(case.clocks):
        db.session.delete(c)
    db.session.flush()
    db.session.expire(case, ["clocks"])
    lifecycle.perform(case, "verify", actor=staff.coord, now=at(2026, 6, 1, 10))
    lifecycle.perform(case, "accept", actor=staff.coord, now=at(2026, 6, 1, 11))
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 10))
    lifecycle.perform(case, "materials_complete", actor=staff.coord, now=at(2026, 6, 2, 11))
    assert clock(case, "report").due_date == D(2026, 6, 16)  # 06-03..05 1-3, 06-08..12 4-8, 06-15 9, 06-16 10
