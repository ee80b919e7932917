"""Issue 17: the promises exactly as the seed words them — slip dates, case numbers, withdrawals, reasons."""

from datetime import date

import pytest
from casework import at, make_directory, make_staff, open_case, walk

from portal.domain import intake, lifecycle
from portal.domain.errors import DomainError
from portal.extensions import db

D = date


@pytest.fixture
def directory(app, product):
    return make_directory()


@pytest.fixture
def staff(make_user):
    return make_staff(make_user)


@pytest.fixture
def open_(make_policy, directory, staff):
    return lambda line, when, **extra: open_case(make_policy, directory, line, when, staff.coord, **extra)


def clock(case, kind):
    return next(c for c in case.clocks if c.kind == kind)


# --- item 3: a corrected 住院条 date moves the inpatient clock's start ----------------------------------------


def test_a_corrected_slip_date_restarts_the_inpatient_clock_from_the_new_date(open_, directory, staff):
    case = open_("green_inpatient", at(2026, 11, 2, 9), admission_slip_date="2026-11-02")
    assert clock(case, "arrange").due_date == D(2026, 11, 16)
    walk(case, staff.coord, [
        ("verify", at(2026, 11, 2, 10), {}), ("accept", at(2026, 11, 2, 11), {}),
        ("confirm_hospital", at(2026, 11, 5, 10),
         {"hospital_id": directory.bj.id, "department": "肿瘤内科", "admission_slip_date": D(2026, 11, 4)}),
    ])
    arrange = clock(case, "arrange")
    # 11-05 1, 11-06 2, 11-09..13 3-7, 11-16 8, 11-17 9, 11-18 Wed 10
    assert (case.admission_slip_date, arrange.start_date, arrange.due_date) == (
        D(2026, 11, 4), D(2026, 11, 4), D(2026, 11, 18))
    event = case.events[-1]
    assert event.data["admission_slip_corrected"] == {"from": "2026-11-02", "to": "2026-11-04"}
    assert event.data["clock_start_moved"][0]["from"] == "2026-11-02"
    assert "由 2026-11-02 更正" in event.summary


# --- item 4: a slip cannot be dated after today, at intake as at confirm_hospital ------------------------------


def test_intake_refuses_a_slip_dated_after_today_like_confirm_hospital(make_policy, directory, staff):
    from casework import insured_for, request_data

    insured = insured_for(make_policy, D(2026, 11, 2))
    with pytest.raises(DomainError) as error:
        intake.submit_request(insured=insured, line_code="green_inpatient", actor=staff.coord, channel="ys_hotline",
                              data=request_data("green_inpatient", directory, D(2026, 11, 2),
                                                admission_slip_date="2026-11-03"),
                              now=at(2026, 11, 2, 9))
    assert (error.value.message, error.value.field) == ("住院条开具日期不能晚于今天。", "admission_slip_date")
    db.session.rollback()
    case = open_case(make_policy, directory, "green_inpatient", at(2026, 11, 2, 9), staff.coord)
    walk(case, staff.coord, [("verify", at(2026, 11, 2, 10), {}), ("accept", at(2026, 11, 2, 11), {})])
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, "confirm_hospital", actor=staff.coord, now=at(2026, 11, 2, 12),
                          hospital_id=directory.bj.id, admission_slip_date=D(2026, 11, 3))
    assert error.value.message == "住院条开具日期不能晚于今天。"
