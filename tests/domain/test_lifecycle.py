"""The lifecycle engine: every line walked to completion, illegal steps refused with their message, the ledger,
clocks, history and notices that follow each transition (SPEC §4)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from casework import at, document, walk
from helpers import accept_required_documents
from sqlalchemy import select

from portal.domain import documents, lifecycle, lines, review, transfers
from portal.domain.errors import DomainError, StaleCaseError
from portal.extensions import db
from portal.models import CaseEvent, Entitlement, EscortAssignment, Notification

D = date
DAY1 = at(2026, 6, 1, 9)  # Monday; arrange clocks of 5 working days are due Mon 2026-06-08


@pytest.fixture
def open_(open_):
    """open_(line, when=DAY1, **extra): the folder's fixture, on DAY1 unless told."""
    return lambda line, when=DAY1, **extra: open_(line, when, **extra)


def perform(case, action, actor, when, **fields):
    lifecycle.perform(case, action, actor=actor, now=when, **fields)
    db.session.commit()
    return case


def refused(case, action, actor, when=None, **fields) -> str:
    """The message of the DomainError the action raises; the session is rolled back like a view would."""
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, action, actor=actor, now=when or at(2026, 6, 2), **fields)
    db.session.rollback()
    return error.value.message


def units(case):
    """(reserved, consumed) of the case's entitlement row."""
    row = db.session.scalar(select(Entitlement).where(Entitlement.insured_id == case.insured_id,
                                                      Entitlement.line_code == case.line_code))
    db.session.refresh(row)
    return row.reserved, row.consumed


def events(case):
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


def notices(case):
    return [(n.title, n.body) for n in db.session.scalars(
        select(Notification).where(Notification.case_id == case.id).order_by(Notification.id))]


def clock(case, kind):
    return next(c for c in case.clocks if c.kind == kind)


def start_service(case, staff, when=DAY1):
    return walk(case, staff.coord, [("verify", when + timedelta(minutes=30), {}),
                                    ("accept", when + timedelta(hours=1), {})])


# --- every line walked to completion -----------------------------------------------------------------------


def test_green_outpatient_walks_from_submission_to_completed(open_, staff, directory):
    case = open_("green_outpatient")
    assert units(case) == (1, 0)
    walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}),
        ("accept", at(2026, 6, 1, 11), {}),
        ("confirm_hospital", at(2026, 6, 1, 14), {"hospital_id": directory.bj.id, "department": "肿瘤内科"}),
        ("book_appointment", at(2026, 6, 2, 10),
         {"hospital_id": directory.bj.id, "department": "肿瘤内科", "scheduled_at": at(2026, 6, 4, 9)}),
        ("record_visit", at(2026, 6, 4, 12), {"outcome": "visited"}),
    ])
    assert (case.status, case.milestone, case.closed_at) == ("completed", "visited", at(2026, 6, 4, 12))
    assert units(case) == (0, 1)
    assert (clock(case, "arrange").outcome, clock(case, "arrange").stopped_at) == ("met", at(2026, 6, 2, 10))
    trail = [(e.action, e.from_status, e.to_status, e.data.get("milestone", {}).get("to")) for e in events(case)]
    assert trail == [
        ("submit", None, "submitted", None),
        ("verify", "submitted", "verifying", None),
        ("accept", "verifying", "in_service", None),
        ("confirm_hospital", "in_service", "in_service", "hospital_confirmed"),
        ("book_appointment", "in_service", "in_service", "arranged"),
        ("record_visit", "in_service", "completed", "visited"),
    ]
    arranged = dict(notices(case))["就医预约已安排"]
    for part in ("北京协和医院", "东城区帅府园1号", "肿瘤内科", "6月4日（周四）09:00"):
        assert part in arranged
    assert "服务已完成" in dict(notices(case))


def test_green_inpatient_walks_to_completed_with_a_no_show_that_consumes_the_unit(open_, staff, directory):
    case = start_service(open_("green_inpatient"), staff)
    walk(case, staff.coord, [
        ("confirm_hospital", at(2026, 6, 2, 10),
         {"hospital_id": directory.bj.id, "department": "胸外科", "admission_slip_date": D(2026, 6, 2)}),
        ("book_appointment", at(2026, 6, 3, 10),
         {"hospital_id": directory.bj.id, "department": "胸外科", "scheduled_at": at(2026, 6, 5, 8)}),
        ("record_visit", at(2026, 6, 5, 18), {"outcome": "no_show"}),
    ])
    assert (case.status, case.milestone, case.admission_slip_date) == ("completed", "no_show", D(2026, 6, 2))
    assert units(case) == (0, 1)
    assert clock(case, "arrange").outcome == "met"
    assert events(case)[-1].summary == "登记就医结果：未按时就医（视为完成）"


def test_domestic_escort_walks_to_completed(open_, staff, directory):
    case = start_service(open_("domestic_escort"), staff)
    walk(case, staff.coord, [
        ("record_escort_request", at(2026, 6, 1, 14),
         {"hospital_id": directory.bj.id, "starts_at": at(2026, 6, 4, 8, 30), "ends_at": at(2026, 6, 4, 12)}),
        ("assign_escort", at(2026, 6, 2, 9), {"escort_id": directory.zhou.id}),
        ("record_escort_outcome", at(2026, 6, 4, 15), {"outcome": "escorted"}),
    ])
    assert (case.status, case.milestone) == ("completed", "escorted")
    assert units(case) == (0, 1)
    assignment = db.session.scalar(select(EscortAssignment).where(EscortAssignment.case_id == case.id))
    assert (assignment.escort_id, assignment.outcome) == (directory.zhou.id, "escorted")
    told = dict(notices(case))["陪诊已安排"]
    assert "周丽" in told and "13800010001" in told and "北京协和医院" in told


def test_escort_no_show_completes_and_consumes(open_, staff, directory):
    case = start_service(open_("domestic_escort"), staff)
    walk(case, staff.coord, [
        ("record_escort_request", at(2026, 6, 1, 14),
         {"hospital_id": directory.bj.id, "starts_at": at(2026, 6, 4, 8), "ends_at": at(2026, 6, 4, 11)}),
        ("assign_escort", at(2026, 6, 2, 9), {"escort_id": directory.zhou.id}),
        ("record_escort_outcome", at(2026, 6, 4, 12), {"outcome": "no_show"}),
    ])
    assert (case.status, case.milestone, units(case)) == ("completed", "no_show", (0, 1))


def test_domestic_second_opinion_walks_to_completed_and_delivers_the_report(open_, staff, directory):
    case = start_service(open_("domestic_second_opinion"), staff)
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    perform(case, "materials_complete", staff.coord, at(2026, 6, 2, 10))
    perform(case, "assign_expert", staff.coord, at(2026, 6, 2, 11), expert_id=directory.expert.id)
    report = document(case, "report", "第二诊疗意见.pdf")
    perform(case, "issue_report", staff.coord, at(2026, 6, 10, 10), document_id=report.id)
    perform(case, "deliver", staff.coord, at(2026, 6, 10, 11))
    assert (case.status, case.milestone, case.expert_id) == ("completed", "delivered", directory.expert.id)
    assert report.delivered_at == at(2026, 6, 10, 11)
    assert clock(case, "report").outcome == "met"
    assert units(case) == (0, 1)
    assert "报告已送达" in dict(notices(case))


def test_overseas_second_opinion_walks_to_completed(open_, staff, directory):
    case = open_("overseas_second_opinion")
    walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}),
        ("launch_decision", at(2026, 6, 2, 10), {"launch": True}),
    ])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 3, 9))
    walk(case, staff.coord, [
        ("materials_complete", at(2026, 6, 3, 10), {}),
        ("history_translated", at(2026, 6, 5, 10), {}),
        ("imaging_transferred", at(2026, 6, 8, 10), {}),
    ])
    # the records go abroad only under the insured's consent naming the recipient (SPEC §7)
    transfers.give(case, hospital_id=directory.us.id, actor=staff.coord, channel="hotline", now=at(2026, 6, 9, 9))
    walk(case, staff.coord, [
        ("choose_provider", at(2026, 6, 9, 10),
         {"country": "美国", "hospital_id": directory.us.id, "expert_id": directory.us_expert.id}),
    ])
    report, translation = document(case, "report"), document(case, "report_translation")
    walk(case, staff.coord, [
        ("report_received", at(2026, 6, 20, 10), {"document_id": report.id}),
        ("report_translated", at(2026, 6, 24, 10), {"document_id": translation.id}),
        ("deliver", at(2026, 6, 25, 10), {}),
    ])
    assert (case.status, case.milestone, case.launch_decision, case.country) == (
        "completed", "delivered", True, "美国")
    assert report.delivered_at == translation.delivered_at == at(2026, 6, 25, 10)
    assert [clock(case, k).outcome for k in ("decision", "report")] == ["met", "met"]
    assert units(case) == (0, 1)
    assert "服务已启动" in dict(notices(case))


def _treatment_until_visa_applied(open_, staff, directory):
    case = open_("overseas_treatment")
    walk(case, staff.coord, [
        ("verify", at(2026, 6, 1, 10), {}),
        ("accept", at(2026, 6, 1, 11), {}),
        ("launch_decision", at(2026, 6, 2, 10), {"launch": True}),
    ])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 3, 9))
    walk(case, staff.coord, [
        ("materials_complete", at(2026, 6, 3, 10), {}),
        ("history_translated", at(2026, 6, 5, 10), {}),
    ])
    transfers.give(case, hospital_id=directory.us.id, actor=staff.coord, channel="hotline", now=at(2026, 6, 10, 9))
    return walk(case, staff.coord, [
        ("hospital_accepted", at(2026, 6, 10, 10), {"hospital_id": directory.us.id}),
        ("visa_applied", at(2026, 6, 11, 10), {"applied_on": D(2026, 6, 11)}),
    ])


def _treatment_until_departed(open_, staff, directory):
    return walk(_treatment_until_visa_applied(open_, staff, directory), staff.coord, [
        ("visa_granted", at(2026, 6, 25, 10), {"decided_on": D(2026, 6, 25)}),
        ("local_escort_arranged", at(2026, 6, 26, 10), {"escort_name": "Linda Wang"}),
        ("treatment_arranged", at(2026, 6, 29, 10), {}),
        ("departed", at(2026, 7, 6, 10), {"on": D(2026, 7, 6)}),
    ])


def test_overseas_treatment_walks_to_completed(open_, staff, directory):
    case = _treatment_until_departed(open_, staff, directory)
    assert clock(case, "treatment").outcome == "met"
    assert "海外就医已安排" in dict(notices(case))
    walk(case, staff.coord, [
        ("log_escort_hours", at(2026, 7, 7, 20), {"day": D(2026, 7, 7), "hours": Decimal("8"),
                                                  "escort_name": "Linda Wang"}),
        ("add_bill", at(2026, 7, 8, 20), {"hospital_name": "MD Anderson", "bill_date": D(2026, 7, 8),
                                          "currency": "usd", "amount": Decimal("12500.00"), "status": "received"}),
    ])
    bill_id = events(case)[-1].data["bill_id"]
    service_report = document(case, "service_report")
    bills = document(case, "bills")
    walk(case, staff.coord, [
        ("update_bill", at(2026, 7, 9, 20), {"bill_id": bill_id, "status": "verified"}),
        ("returned", at(2026, 7, 20, 10), {"on": D(2026, 7, 20)}),
        ("deliver", at(2026, 7, 24, 10), {"document_id": service_report.id}),
    ])
    assert (case.status, case.milestone) == ("completed", "delivered")
    assert service_report.delivered_at == bills.delivered_at == at(2026, 7, 24, 10)
    assert units(case) == (0, 1)
    assert [e.action for e in events(case)][-6:] == [
        "departed", "log_escort_hours", "add_bill", "update_bill", "returned", "deliver"]


# --- illegal transitions ----------------------------------------------------------------------------------------


def test_an_action_not_allowed_in_the_current_status_is_refused_naming_status_and_action(open_, staff, directory):
    case = open_("green_outpatient")
    assert refused(case, "book_appointment", staff.coord, hospital_id=directory.bj.id, department="内科",
                   scheduled_at=at(2026, 6, 5, 9)) == "当前状态“已提交”不能执行“预约挂号”"
    case.status = "completed"
    assert refused(case, "book_appointment", staff.coord) == "当前状态“已完成”不能执行“预约挂号”"


def test_milestones_must_come_in_order(open_, staff, directory):
    case = start_service(open_("green_outpatient"), staff)
    assert refused(case, "book_appointment", staff.coord) == "需先完成“就诊城市与医院已确认”，才能执行“预约挂号”"
    assert refused(case, "record_visit", staff.coord) == "需先完成“已预约并通知客户”，才能执行“登记就医结果”"


def test_a_milestone_is_reached_only_once(open_, staff, directory):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    assert refused(case, "confirm_hospital", staff.coord, hospital_id=directory.bj2.id) == (
        "“就诊城市与医院已确认”已完成，不能重复执行“确认就诊医院”")


def test_an_action_of_another_line_is_refused(open_, staff, directory):
    case = start_service(open_("green_outpatient"), staff)
    assert refused(case, "assign_escort", staff.coord, escort_id=directory.zhou.id) == (
        "“就医绿通·门诊预约”没有“安排陪诊员”这一步")


def test_only_the_listed_roles_may_act(open_, staff, make_user):
    case = open_("green_outpatient")
    insured_user = make_user("insured", insured=case.insured)
    assert refused(case, "verify", insured_user) == "您没有权限执行“开始核实”"
    assert refused(case, "note", make_user("auditor"), text="看看") == "您没有权限执行“添加内部备注”"
    assert refused(case, "assign", staff.coord, assignee_id=staff.coord.id) == "您没有权限执行“分派案件”"


def test_a_coordinator_cannot_act_on_a_colleagues_case_but_takes_an_unassigned_one(open_, staff, make_user):
    case = open_("green_outpatient")
    colleague = make_user("coordinator")
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    assert case.assignee_id == staff.coord.id
    assert events(case)[-1].data["took_assignment"] is True
    assert refused(case, "accept", colleague) == "该案件由其他协调员负责，您不能执行“核实通过，开始服务”"
    perform(case, "accept", staff.boss, at(2026, 6, 1, 11))  # supervisors act on any case
    assert case.assignee_id == staff.coord.id


def test_an_unknown_action_is_refused(open_, staff):
    case = open_("green_outpatient")
    assert refused(case, "teleport", staff.coord) == "未知的操作“teleport”"


def test_unexpected_fields_are_a_programming_error(open_, staff):
    with pytest.raises(TypeError):
        lifecycle.perform(open_("green_outpatient"), "verify", actor=staff.coord, colour="red")


# --- appointment guards --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hospital", "department", "scheduled_at", "message"),
    [
        ("sh", "内科", at(2026, 6, 5, 9), "“复旦大学附属中山医院”位于上海，与申请的就诊城市北京不符"),
        ("closed", "内科", at(2026, 6, 5, 9), "“已停用医院”不在当前合作医院目录中"),
        ("us", "内科", at(2026, 6, 5, 9), "“MD Anderson Cancer Center”不在当前合作医院目录中"),
        ("bj", "", at(2026, 6, 5, 9), "请填写就诊科室"),
        ("bj", "内科", at(2026, 6, 2, 9), "预约时间必须晚于当前时间"),
        ("bj", "内科", None, "请选择就诊日期和时间"),
    ],
)
def test_an_appointment_needs_a_directory_hospital_in_the_city_a_department_and_a_future_time(
        open_, staff, directory, hospital, department, scheduled_at, message):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    assert refused(case, "book_appointment", staff.coord, at(2026, 6, 2, 10),
                   hospital_id=getattr(directory, hospital).id, department=department,
                   scheduled_at=scheduled_at) == message


def test_the_inpatient_line_needs_the_admission_slip_date(open_, staff, directory):
    case = start_service(open_("green_inpatient"), staff)
    assert refused(case, "confirm_hospital", staff.coord, hospital_id=directory.bj.id) == "住院预约须填写住院条开具日期"
    assert refused(case, "confirm_hospital", staff.coord, hospital_id=directory.bj.id,
                   admission_slip_date=D(2026, 6, 3)) == "住院条开具日期不能晚于今天。"


def test_a_visit_cannot_be_recorded_before_the_appointment(open_, staff, directory):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    perform(case, "book_appointment", staff.coord, at(2026, 6, 2, 10), hospital_id=directory.bj.id,
            department="内科", scheduled_at=at(2026, 6, 4, 9))
    assert refused(case, "record_visit", staff.coord, at(2026, 6, 3, 9), outcome="no_show") == (
        "预约就诊时间尚未到，不能登记就医结果")


# --- escorts ------------------------------------------------------------------------------------------------


def _escort_case(open_, staff, directory, make_policy, starts_at, ends_at):
    case = start_service(open_("domestic_escort"), staff)
    return perform(case, "record_escort_request", staff.coord, at(2026, 6, 1, 14),
                   hospital_id=directory.bj.id, starts_at=starts_at, ends_at=ends_at)


def test_an_escort_cannot_be_double_booked(open_, staff, directory, make_policy):
    first = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 8), at(2026, 6, 4, 12))
    second = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 11), at(2026, 6, 4, 15))
    perform(first, "assign_escort", staff.coord, at(2026, 6, 2, 9), escort_id=directory.zhou.id)
    assert refused(second, "assign_escort", staff.coord, escort_id=directory.zhou.id) == "该陪诊员在该时段已有其他安排"
    perform(second, "assign_escort", staff.coord, at(2026, 6, 2, 10), escort_id=directory.sun.id)
    assert second.milestone == "arranged"


def test_back_to_back_windows_and_cancelled_bookings_do_not_clash(open_, staff, directory, make_policy):
    first = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 8), at(2026, 6, 4, 12))
    adjacent = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 12), at(2026, 6, 4, 14))
    overlapping = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 9), at(2026, 6, 4, 10))
    perform(first, "assign_escort", staff.coord, at(2026, 6, 2, 9), escort_id=directory.zhou.id)
    perform(adjacent, "assign_escort", staff.coord, at(2026, 6, 2, 9), escort_id=directory.zhou.id)
    booking = db.session.scalar(select(EscortAssignment).where(EscortAssignment.case_id == first.id))
    booking.cancelled_at = at(2026, 6, 2, 10)
    db.session.commit()
    perform(overlapping, "assign_escort", staff.coord, at(2026, 6, 2, 11), escort_id=directory.zhou.id)
    assert overlapping.milestone == "arranged"


def test_an_escort_must_serve_the_case_city(open_, staff, directory, make_policy):
    case = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 8), at(2026, 6, 4, 12))
    assert refused(case, "assign_escort", staff.coord, escort_id=directory.wu.id) == (
        "陪诊员吴敏在上海服务，与陪诊城市北京不符")


def test_an_escort_window_must_end_after_it_starts(open_, staff, directory):
    case = start_service(open_("domestic_escort"), staff)
    assert refused(case, "record_escort_request", staff.coord, hospital_id=directory.bj.id,
                   starts_at=at(2026, 6, 4, 12), ends_at=at(2026, 6, 4, 12)) == "陪诊结束时间必须晚于开始时间"


# --- overseas treatment ----------------------------------------------------------------------------------------


def test_local_escort_hours_are_capped_at_40_and_the_refusal_says_what_remains(open_, staff, directory):
    case = _treatment_until_departed(open_, staff, directory)
    perform(case, "log_escort_hours", staff.coord, at(2026, 7, 8, 20), day=D(2026, 7, 8), hours=Decimal("38"),
            escort_name="Linda Wang")
    assert refused(case, "log_escort_hours", staff.coord, at(2026, 7, 9, 20), day=D(2026, 7, 9),
                   hours=Decimal("3"), escort_name="Linda Wang") == (
        "当地陪诊累计不得超过 40 小时：已登记 38 小时，还可登记 2 小时")
    perform(case, "log_escort_hours", staff.coord, at(2026, 7, 9, 20), day=D(2026, 7, 9), hours="2",
            escort_name="Linda Wang")
    assert refused(case, "log_escort_hours", staff.coord, at(2026, 7, 10, 20), day=D(2026, 7, 10),
                   hours=Decimal("0.5"), escort_name="Linda Wang") == (
        "当地陪诊累计不得超过 40 小时：已登记 40 小时，还可登记 0 小时")


def test_escort_hours_can_only_be_logged_after_departure(open_, staff, directory):
    case = _treatment_until_visa_applied(open_, staff, directory)
    assert refused(case, "log_escort_hours", staff.coord, day=D(2026, 6, 2), hours=2, escort_name="A") == (
        "需先完成“已出发”，才能执行“登记当地陪诊时长”")


def test_a_visa_refusal_terminates_with_visa_refused_and_releases_the_unit(open_, staff, directory):
    case = _treatment_until_visa_applied(open_, staff, directory)
    assert units(case) == (1, 0)
    perform(case, "visa_refused", staff.coord, at(2026, 6, 20, 10), decided_on=D(2026, 6, 19))
    assert (case.status, case.termination_reason, case.milestone) == ("terminated", "visa_refused", "visa_applied")
    assert units(case) == (0, 0)
    assert clock(case, "treatment").outcome == "void"
    assert "服务终止" in dict(notices(case))["医疗签证未获批准"]
    assert refused(case, "visa_granted", staff.coord, decided_on=D(2026, 6, 20)) == (
        "当前状态“已终止”不能执行“医疗签证获批”")


def test_a_granted_visa_can_no_longer_be_refused(open_, staff, directory):
    case = _treatment_until_visa_applied(open_, staff, directory)
    perform(case, "visa_granted", staff.coord, at(2026, 6, 20, 10), decided_on=D(2026, 6, 20))
    assert refused(case, "visa_refused", staff.coord, decided_on=D(2026, 6, 20)) == (
        "案件已进行到“医疗签证已获批”，不能再执行“医疗签证被拒”")


def test_visa_refused_is_not_a_reason_a_coordinator_can_pick(open_, staff):
    case = start_service(open_("overseas_treatment"), staff)
    assert refused(case, "terminate", staff.coord, reason="visa_refused") == "该终止原因不适用于本案件"


def test_a_declined_launch_terminates_and_releases(open_, staff):
    case = open_("overseas_treatment")
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    perform(case, "launch_decision", staff.coord, at(2026, 6, 2, 10), launch=False, note="疾病类型不适合赴外治疗")
    assert (case.status, case.termination_reason, case.launch_decision) == ("terminated", "launch_declined", False)
    assert units(case) == (0, 0)
    assert "疾病类型不适合赴外治疗" in dict(notices(case))["服务未能启动"]


def test_deliver_needs_the_lines_deliverable_on_this_case(open_, staff, directory):
    case = start_service(open_("domestic_second_opinion"), staff)
    other = start_service(open_("domestic_second_opinion"), staff)
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    perform(case, "materials_complete", staff.coord, at(2026, 6, 2, 10))
    perform(case, "assign_expert", staff.coord, at(2026, 6, 2, 11), expert_id=directory.expert.id)
    foreign, scan = document(other, "report"), document(case, "ct")
    db.session.commit()
    assert refused(case, "issue_report", staff.coord, document_id=foreign.id) == "所选文件不属于本案件"
    assert refused(case, "issue_report", staff.coord, document_id=scan.id) == "所选文件不是第二诊疗意见报告"
    perform(case, "issue_report", staff.coord, at(2026, 6, 8, 10), document_id=document(case, "report").id)
    document_rows = [d for d in case.documents if d.kind == "report"]
    for row in document_rows:
        row.withdrawn_at = at(2026, 6, 8, 11)
    db.session.commit()
    assert refused(case, "deliver", staff.coord) == "请先上传第二诊疗意见报告"


def test_materials_complete_waits_until_every_required_document_is_uploaded_and_accepted(open_, staff):
    case = start_service(open_("domestic_second_opinion"), staff)  # needs 门诊病历, 病理报告, 身份证件
    assert refused(case, "materials_complete", staff.coord) == "资料尚未齐全：缺少 门诊病历、病理报告、身份证件"
    record, pathology, id_card = (document(case, k) for k in ("medical_record", "pathology", "id_document"))
    review.review_document(id_card, decision="accepted", actor=staff.coord, now=at(2026, 6, 2, 9))
    review.review_document(pathology, decision="rejected", reason="看不清", actor=staff.coord, now=at(2026, 6, 2, 9))
    db.session.commit()
    # a rejected upload counts as missing, an unreviewed one as waiting for review
    assert refused(case, "materials_complete", staff.coord) == "资料尚未齐全：缺少 病理报告；待审核 门诊病历"
    assert documents.missing_kinds(case) == ["pathology"]
    assert documents.missing_kinds(case, accepted_only=True) == ["medical_record", "pathology"]
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 10))
    perform(case, "materials_complete", staff.coord, at(2026, 6, 2, 11))
    assert case.milestone == "materials_complete"
    assert clock(case, "report").state == "running"


def test_a_withdrawn_document_no_longer_counts_towards_materials_complete(open_, staff):
    case = start_service(open_("domestic_second_opinion"), staff)
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    db.session.commit()
    next(d for d in case.documents if d.kind == "pathology").withdrawn_at = at(2026, 6, 2, 10)
    db.session.commit()
    assert refused(case, "materials_complete", staff.coord) == "资料尚未齐全：缺少 病理报告"


def test_a_domestic_expert_must_come_from_the_expert_cities(open_, staff, directory):
    case = start_service(open_("domestic_second_opinion"), staff)
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    perform(case, "materials_complete", staff.coord, at(2026, 6, 2, 10))
    assert refused(case, "assign_expert", staff.coord, expert_id=directory.us_expert.id) == (
        "国内第二诊疗意见须由北京、上海、广州的三甲医院专家出具")


# --- cancellation, termination and the ledger ------------------------------------------------------------------


def test_the_insured_may_cancel_before_the_appointment_is_arranged(open_, staff, directory, make_user):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    insured_user = make_user("insured", insured=case.insured)
    assert [a.code for a in lifecycle.available_actions(case, insured_user)] == ["cancel"]
    perform(case, "cancel", insured_user, at(2026, 6, 2, 8), note="已自行挂上号")
    assert (case.status, units(case)) == ("cancelled", (0, 0))
    assert clock(case, "arrange").outcome == "void"
    last = events(case)[-1]
    assert (last.actor_role, last.from_status, last.to_status) == ("insured", "in_service", "cancelled")


def test_the_insured_cannot_cancel_once_arranged(open_, staff, directory, make_user):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    perform(case, "book_appointment", staff.coord, at(2026, 6, 2, 10), hospital_id=directory.bj.id,
            department="内科", scheduled_at=at(2026, 6, 4, 9))
    insured_user = make_user("insured", insured=case.insured)
    assert lifecycle.available_actions(case, insured_user) == []
    assert refused(case, "cancel", insured_user) == "案件已进行到“已预约并通知客户”，不能再执行“取消申请”"


def test_a_second_opinion_can_be_cancelled_until_the_expert_is_assigned(open_, staff, directory, make_user):
    case = start_service(open_("domestic_second_opinion"), staff)
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    perform(case, "materials_complete", staff.coord, at(2026, 6, 2, 10))
    insured_user = make_user("insured", insured=case.insured)
    assert "cancel" in [a.code for a in lifecycle.available_actions(case, insured_user)]
    perform(case, "assign_expert", staff.coord, at(2026, 6, 2, 11), expert_id=directory.expert.id)
    assert refused(case, "cancel", insured_user) == "案件已进行到“专家已指派”，不能再执行“取消申请”"


def test_only_the_cases_own_insured_may_cancel(open_, make_policy, make_user, staff):
    case = open_("green_outpatient")
    stranger = make_user("insured", insured=make_policy(name="李四"))
    assert refused(case, "cancel", stranger) == "只能操作您本人的申请"
    assert refused(case, "cancel", staff.coord) == "您没有权限执行“取消申请”"


def test_termination_with_declined_after_arrangement_consumes_the_unit(open_, staff, directory):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    assert refused(case, "terminate", staff.coord, reason="declined_after_arrangement") == (
        "服务尚未安排（需先“已预约并通知客户”），不能以“服务已安排后被保险人放弃（视为已使用）”终止")
    perform(case, "book_appointment", staff.coord, at(2026, 6, 2, 10), hospital_id=directory.bj.id,
            department="内科", scheduled_at=at(2026, 6, 4, 9))
    perform(case, "terminate", staff.coord, at(2026, 6, 3, 10), reason="declined_after_arrangement",
            note="客户表示不再需要")
    assert (case.status, case.termination_reason, units(case)) == ("terminated", "declined_after_arrangement", (0, 1))
    told = dict(notices(case))["服务已终止"]
    assert "服务已安排后被保险人放弃" in told and "客户表示不再需要" in told


def test_termination_as_not_eligible_during_verification_releases_the_reservation(open_, staff):
    case = open_("green_outpatient")
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    perform(case, "terminate", staff.coord, at(2026, 6, 1, 15), reason="not_eligible", note="病理报告不支持重度")
    assert (case.status, case.termination_reason, units(case)) == ("terminated", "not_eligible", (0, 0))


def test_a_closed_case_accepts_internal_notes_only(open_, staff):
    case = open_("green_outpatient")
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    perform(case, "terminate", staff.coord, at(2026, 6, 1, 15), reason="duplicate")
    assert [a.code for a in lifecycle.available_actions(case, staff.coord)] == ["note"]
    perform(case, "note", staff.coord, at(2026, 6, 2, 10), text="客户来电确认")
    assert (events(case)[-1].internal, events(case)[-1].kind) == (True, "note")


# --- documents, assignment, optimistic lock ------------------------------------------------------------------


def test_requesting_documents_tells_the_insured_which_and_why_and_returns_to_the_same_status(open_, staff):
    case = start_service(open_("green_outpatient"), staff)
    perform(case, "request_documents", staff.coord, at(2026, 6, 2, 10), kinds=["ct", "pathology"],
            reason="需确认分期")
    assert (case.status, case.resume_status) == ("awaiting_documents", "in_service")
    told = dict(notices(case))["请补充资料"]
    assert "CT 报告、病理报告" in told and "需确认分期" in told
    perform(case, "documents_received", staff.coord, at(2026, 6, 3, 10))
    assert (case.status, case.resume_status) == ("in_service", None)


def test_requesting_documents_needs_known_kinds_and_a_reason(open_, staff):
    case = start_service(open_("green_outpatient"), staff)
    assert refused(case, "request_documents", staff.coord, kinds=[], reason="x") == "请选择需要补充的资料"
    assert refused(case, "request_documents", staff.coord, kinds=["x-ray"], reason="x") == "未知的资料类型：x-ray"
    assert refused(case, "request_documents", staff.coord, kinds=["ct"], reason=" ") == "请说明需要补充资料的原因"


def test_a_supervisor_assigns_cases_to_active_staff_only(open_, staff, make_user):
    case = open_("green_outpatient")
    perform(case, "assign", staff.boss, at(2026, 6, 1, 10), assignee_id=staff.coord.id)
    assert case.assignee_id == staff.coord.id
    assert (events(case)[-1].kind, events(case)[-1].internal) == ("assignment", True)
    assert refused(case, "assign", staff.boss, assignee_id=make_user("auditor").id) == "只能分派给在职的协调员或主管"
    assert refused(case, "assign", staff.boss, assignee_id=make_user("coordinator", active=False).id) == (
        "只能分派给在职的协调员或主管")


def test_a_stale_expected_version_is_refused(open_, staff):
    case = open_("green_outpatient")
    seen = case.version
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    with pytest.raises(StaleCaseError) as error:
        lifecycle.perform(case, "accept", actor=staff.coord, expected_version=seen, now=at(2026, 6, 1, 11))
    assert error.value.message == "该案件已被他人更新，请刷新后重试"
    lifecycle.perform(case, "accept", actor=staff.coord, expected_version=case.version, now=at(2026, 6, 1, 11))
    assert case.status == "in_service"


def test_every_action_bumps_the_version_so_concurrent_edits_conflict(open_, staff):
    case = start_service(open_("green_outpatient"), staff)
    before = case.version
    perform(case, "note", staff.coord, at(2026, 6, 2, 10), text="已电话联系")
    assert case.version == before + 1


def test_available_actions_follow_status_role_and_line(open_, staff, make_user):
    case = open_("overseas_treatment")
    assert [a.code for a in lifecycle.available_actions(case, staff.coord)] == ["verify", "note", "terminate"]
    assert [a.code for a in lifecycle.available_actions(case, staff.boss)] == ["verify", "assign", "note", "terminate"]
    assert lifecycle.available_actions(case, make_user("auditor")) == []
    perform(case, "verify", staff.coord, at(2026, 6, 1, 10))
    assert [a.code for a in lifecycle.available_actions(case, staff.coord)] == [
        "accept", "launch_decision", "request_documents", "note", "terminate"]


def test_the_action_table_is_consistent_with_the_milestones():
    for spec in lines.ACTIONS.values():
        for line in spec.lines or lines.MILESTONES:
            codes = lines.milestone_codes(line)
            for milestone in (spec.sets_milestone, spec.requires_milestone, lines.until_milestone(spec, line)):
                assert milestone is None or milestone in codes, (spec.code, line, milestone)
    assert all(lines.SERVICE_STARTS[line] in lines.milestone_codes(line) for line in lines.MILESTONES)
    assert {code for code, r in lines.TERMINATION_REASONS.items() if r.consumes_entitlement} == {
        "declined_after_arrangement"}


def test_a_case_terminated_after_arrangement_frees_its_escort(open_, staff, directory, make_policy):
    first = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 8), at(2026, 6, 4, 12))
    second = _escort_case(open_, staff, directory, make_policy, at(2026, 6, 4, 9), at(2026, 6, 4, 11))
    perform(first, "assign_escort", staff.coord, at(2026, 6, 2, 9), escort_id=directory.zhou.id)
    perform(first, "terminate", staff.coord, at(2026, 6, 3, 9), reason="declined_after_arrangement")
    booking = db.session.scalar(select(EscortAssignment).where(EscortAssignment.case_id == first.id))
    assert booking.cancelled_at == at(2026, 6, 3, 9)  # kept on record, no longer blocking the escort
    perform(second, "assign_escort", staff.coord, at(2026, 6, 3, 10), escort_id=directory.zhou.id)
    assert second.milestone == "arranged"


def test_an_admission_slip_given_at_intake_need_not_be_typed_again(open_, staff, directory):
    case = start_service(open_("green_inpatient", admission_slip_date="2026-05-29"), staff)
    perform(case, "confirm_hospital", staff.coord, at(2026, 6, 1, 14), hospital_id=directory.bj.id)
    assert (case.milestone, case.admission_slip_date) == ("hospital_confirmed", D(2026, 5, 29))


def test_demo_data_gives_zhang_wei_one_completed_escort_case_once(app):
    from portal.domain import history, ledger
    from portal.domain.demo import load_demo_data
    from portal.models import Case, InsuredPerson

    load_demo_data(history=False)
    db.session.commit()
    load_demo_data(history=False)
    db.session.commit()
    zhang = db.session.scalar(select(InsuredPerson).where(InsuredPerson.name == "张伟"))
    cases = list(db.session.scalars(select(Case).where(Case.insured_id == zhang.id)))
    assert [(c.line_code, c.status, c.milestone) for c in cases] == [("domestic_escort", "completed", "escorted")]
    escort = next(b for b in ledger.balances(zhang, D(2026, 6, 10)) if b.line_code == "domestic_escort")
    assert (escort.total, escort.consumed, escort.remaining) == (2, 1, 1)
    assert [e.action for e in events(cases[0])] == [
        "submit", "verify", "accept", "record_escort_request", "assign_escort", "record_escort_outcome"]
    assert all(e.actor.username == "coord1" for e in events(cases[0]))
    assert history.verify().ok
