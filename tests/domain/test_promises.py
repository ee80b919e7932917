"""Issue 17: the promises exactly as the seed words them — slip dates, case numbers, withdrawals, reasons."""

from datetime import date

import pytest
from casework import at, open_case, walk

from portal.domain import intake, lifecycle
from portal.domain.errors import DomainError
from portal.extensions import db

D = date


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


def units(case):
    """(reserved, consumed) of the case's entitlement row."""
    from sqlalchemy import select

    from portal.models import Entitlement

    row = db.session.scalar(select(Entitlement).where(Entitlement.insured_id == case.insured_id,
                                                      Entitlement.line_code == case.line_code))
    db.session.refresh(row)
    return row.reserved, row.consumed


def start_service(case, staff, when):
    return walk(case, staff.coord, [("verify", when, {}), ("accept", when, {})])


# --- item 13: a withdrawal after arrangement uses the service; before it releases the unit ---------------------


def test_a_withdrawal_before_arrangement_releases_the_unit(open_, staff, directory):
    case = start_service(open_("green_outpatient", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    walk(case, staff.coord, [("confirm_hospital", at(2026, 6, 1, 14), {"hospital_id": directory.bj.id}),
                             ("terminate", at(2026, 6, 2, 10), {"reason": "insured_withdrew"})])
    assert (case.termination_reason, units(case)) == ("insured_withdrew", (0, 0))


def test_a_withdrawal_after_arrangement_uses_the_service(open_, staff, directory):
    case = start_service(open_("green_outpatient", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    walk(case, staff.coord, [
        ("confirm_hospital", at(2026, 6, 1, 14), {"hospital_id": directory.bj.id}),
        ("book_appointment", at(2026, 6, 2, 10),
         {"hospital_id": directory.bj.id, "department": "内科", "scheduled_at": at(2026, 6, 4, 9)}),
        ("terminate", at(2026, 6, 3, 10), {"reason": "insured_withdrew"}),
    ])
    assert (case.termination_reason, units(case)) == ("insured_withdrew", (0, 1))
    assert "视为该次服务已完成" in case.events[-1].summary


# --- item 15: 医疗签证无法办理 before any application is a reason of its own -----------------------------------


def _treatment_at_hospital(open_, staff, directory):
    from helpers import accept_required_documents

    case = start_service(open_("overseas_treatment", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    walk(case, staff.coord, [("launch_decision", at(2026, 6, 1, 11), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    return walk(case, staff.coord, [("materials_complete", at(2026, 6, 2, 10), {}),
                                    ("history_translated", at(2026, 6, 2, 11), {}),
                                    ("consent_abroad", at(2026, 6, 3, 9), {"hospital_id": directory.us.id}),
                                    ("hospital_accepted", at(2026, 6, 3, 10), {"hospital_id": directory.us.id})])


def test_a_visa_that_cannot_be_applied_for_terminates_with_its_own_reason(open_, staff, directory):
    from portal.domain import lines

    case = _treatment_at_hospital(open_, staff, directory)
    assert "visa_impossible" in lines.reasons_for("overseas_treatment")
    walk(case, staff.coord, [("terminate", at(2026, 6, 4, 10), {"reason": "visa_impossible", "note": "领馆不受理"})])
    assert (case.status, case.termination_reason, units(case)) == ("terminated", "visa_impossible", (0, 0))
    assert case.events[-1].summary == "终止服务：医疗签证无法办理（领馆不受理）"


def test_after_applying_the_visa_only_visa_refused_ends_it(open_, staff, directory):
    case = _treatment_at_hospital(open_, staff, directory)
    walk(case, staff.coord, [("visa_applied", at(2026, 6, 4, 10), {"applied_on": D(2026, 6, 4)})])
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, "terminate", actor=staff.coord, now=at(2026, 6, 5, 10), reason="visa_impossible")
    assert error.value.message == "案件已“医疗签证已申请”，不能以“医疗签证无法办理”终止"


# --- item 14: overseas treatment counts from the latest of materials, hospital acceptance and visa ----------


def test_the_treatment_clock_waits_for_hospital_and_visa_and_counts_from_the_latest(open_, staff, directory):
    from portal.domain import sla

    case = _treatment_at_hospital(open_, staff, directory)      # materials 06-02, hospital accepted 06-03
    treatment = clock(case, "treatment")
    assert (treatment.state, sla.waiting_for(case, treatment)) == ("pending", ["visa_granted"])
    walk(case, staff.coord, [("visa_applied", at(2026, 6, 4, 10), {"applied_on": D(2026, 6, 4)}),
                             ("visa_granted", at(2026, 6, 11, 10), {"decided_on": D(2026, 6, 10)})])
    # from the visa's date 06-10 (Wed): 06-11, 06-12 2; 06-15..18 6 (06-19 端午 off); 06-22..26 11; 06-29, 30 13;
    # July 23 → 36; 08-03..06 → 40
    assert (treatment.state, treatment.start_date, treatment.due_date) == ("running", D(2026, 6, 10), D(2026, 8, 6))
    assert sla.waiting_for(case, treatment) == []


def test_a_visa_dated_before_the_hospital_accepted_counts_from_the_acceptance(open_, staff, directory):
    case = _treatment_at_hospital(open_, staff, directory)      # hospital accepted 06-03
    walk(case, staff.coord, [("visa_applied", at(2026, 6, 3, 11), {"applied_on": D(2026, 6, 1)}),
                             ("visa_granted", at(2026, 6, 3, 12), {"decided_on": D(2026, 6, 2)})])
    assert clock(case, "treatment").start_date == D(2026, 6, 3)


def test_the_auditor_sees_the_working_days_of_each_step(open_, staff, directory):
    from portal.domain import sla

    case = _treatment_at_hospital(open_, staff, directory)
    steps = sla.step_times(case, D(2026, 6, 8))
    assert [(s.code, s.reached_on, s.working_days) for s in steps] == [
        ("decision", D(2026, 6, 1), 0), ("materials_complete", D(2026, 6, 2), 1),
        ("history_translated", D(2026, 6, 2), 0), ("hospital_accepted", D(2026, 6, 3), 1),
        ("visa_applied", None, 3)]                               # 06-04, 06-05, 06-08 so far


# --- item 10: the hospital directory at request time rules --------------------------------------------------


def test_a_hospital_deactivated_after_the_request_stays_valid_for_that_case(open_, staff, directory, make_user):
    from portal.domain import directory as directories

    case = start_service(open_("green_outpatient", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    directories.set_active("hospital", directory.bj, False, actor=staff.boss, now=at(2026, 6, 2, 9))
    db.session.commit()
    assert directory.bj.deactivated_at is not None
    walk(case, staff.coord, [("confirm_hospital", at(2026, 6, 2, 14), {"hospital_id": directory.bj.id})])
    assert case.hospital_id == directory.bj.id
    later = start_service(open_("green_outpatient", at(2026, 6, 3, 9), hospital_id=directory.bj2.id), staff,
                          at(2026, 6, 3, 10))
    with pytest.raises(DomainError) as error:                 # requested after the deactivation: not listed then
        lifecycle.perform(later, "confirm_hospital", actor=staff.coord, now=at(2026, 6, 3, 11),
                          hospital_id=directory.bj.id)
    assert error.value.message == "“北京协和医院”不在当前合作医院目录中"


# --- item 12: second-opinion experts are 三甲 experts in 北京/上海/广州 -----------------------------------------


def test_only_a_three_a_expert_can_give_a_domestic_second_opinion(open_, staff, directory):
    from helpers import accept_required_documents

    from portal.models import Expert

    plain = Expert(name="钱二级", city="北京", country="中国", hospital_name="某区医院", hospital_grade="二甲")
    db.session.add(plain)
    db.session.commit()
    case = start_service(open_("domestic_second_opinion", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    walk(case, staff.coord, [("materials_complete", at(2026, 6, 2, 10), {})])
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, "assign_expert", actor=staff.coord, now=at(2026, 6, 2, 11), expert_id=plain.id)
    assert error.value.message == "国内第二诊疗意见须由北京、上海、广州的三甲医院专家出具"
    db.session.rollback()
    walk(case, staff.coord, [("assign_expert", at(2026, 6, 2, 11), {"expert_id": directory.expert.id})])
    assert case.expert_id == directory.expert.id


def test_the_expert_directory_records_the_hospital_grade(app, product, staff):
    from portal.domain import directory as directories

    expert = directories.create("expert", {"name": "孙一", "country": "中国", "city": "上海",
                                           "hospital_name": "复旦大学附属华山医院", "hospital_grade": "三甲"},
                                actor=staff.boss)
    assert (expert.hospital_grade, directories.expert_grade(expert)) == ("三甲", "三甲")


# --- item 11: an escort needs a city on the list; the hospital is the insured's, from the directory or typed ----


def test_escort_eligibility_checks_the_city_only(make_policy, directory, staff):
    from casework import insured_for

    from portal.domain import eligibility

    insured = insured_for(make_policy, D(2026, 6, 1))
    base = {"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-20", "city": "北京"}
    for extra in ({"hospital_name": "北京市某社区医院"}, {"hospital_id": directory.closed.id}, {}):
        results = eligibility.evaluate(insured=insured, line_code="domestic_escort", data={**base, **extra},
                                       on_date=D(2026, 6, 1))
        assert eligibility.passed(results), (extra, results)
    results = eligibility.evaluate(insured=insured, line_code="domestic_escort",
                                   data={**base, "city": "唐山"}, on_date=D(2026, 6, 1))  # green city, not escort
    assert [r.reason for r in results if not r.passed] == ["所选城市“唐山”不在陪诊服务城市范围内。"]


def test_an_escort_to_a_typed_hospital_is_recorded_and_arranged(open_, staff, directory):
    case = open_("domestic_escort", at(2026, 6, 1, 9), hospital_id="", hospital_name="北京市某社区医院")
    assert (case.hospital_id, case.request_data["hospital_name"]) == (None, "北京市某社区医院")
    start_service(case, staff, at(2026, 6, 1, 10))
    walk(case, staff.coord, [
        ("record_escort_request", at(2026, 6, 1, 11), {"starts_at": at(2026, 6, 4, 8), "ends_at": at(2026, 6, 4, 12)}),
        ("assign_escort", at(2026, 6, 2, 9), {"escort_id": directory.zhou.id}),
    ])
    assert case.milestone == "arranged" and "北京市某社区医院" in case.events[-2].summary
    from sqlalchemy import select

    from portal.models import Notification

    told = db.session.scalars(select(Notification.body).where(Notification.case_id == case.id)).all()
    assert any("在北京市某社区医院陪同您就诊" in body for body in told)


def test_a_directory_hospital_of_another_city_is_refused_for_the_escort(open_, staff, directory):
    case = start_service(open_("domestic_escort", at(2026, 6, 1, 9)), staff, at(2026, 6, 1, 10))
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, "record_escort_request", actor=staff.coord, now=at(2026, 6, 1, 11),
                          hospital_id=directory.sh.id, starts_at=at(2026, 6, 4, 8), ends_at=at(2026, 6, 4, 12))
    assert error.value.message == "“复旦大学附属中山医院”不在陪诊城市北京"
