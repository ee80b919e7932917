"""The per-line tables read by the one lifecycle engine (SPEC §4; STYLE "Data as data")."""

from collections.abc import Mapping
from dataclasses import dataclass

GREEN = ("green_outpatient", "green_inpatient")
OVERSEAS = ("overseas_second_opinion", "overseas_treatment")
STAFF = ("coordinator", "supervisor")

#: milestones inside in_service, in SPEC §4 order; `no_show` is the alternative outcome of the step before it
MILESTONES: dict[str, list[tuple[str, str]]] = {
    "green_outpatient": [
        ("hospital_confirmed", "就诊城市与医院已确认"),
        ("arranged", "已预约并通知客户"),
        ("visited", "已就医"),
        ("no_show", "未按时就医（视为完成）"),
    ],
    "green_inpatient": [
        ("hospital_confirmed", "就诊医院与住院条已确认"),
        ("arranged", "已预约并通知客户"),
        ("visited", "已入院就医"),
        ("no_show", "未按时就医（视为完成）"),
    ],
    "domestic_escort": [
        ("request_recorded", "陪诊城市、医院与时间已记录"),
        ("arranged", "陪诊员已安排并通知客户"),
        ("escorted", "已陪诊"),
        ("no_show", "未按约定就诊（视为完成）"),
    ],
    "domestic_second_opinion": [
        ("materials_complete", "资料已齐全"),
        ("expert_assigned", "专家已指派"),
        ("report_issued", "报告已出具"),
        ("delivered", "报告已送达客户及史带"),
    ],
    "overseas_second_opinion": [
        ("decision", "已告知是否启动"),
        ("materials_complete", "资料已齐全"),
        ("history_translated", "病史已翻译"),
        ("imaging_transferred", "影像已传输"),
        ("provider_chosen", "国家、医院与专家已选定"),
        ("report_received", "已收到海外报告"),
        ("report_translated", "报告已译成中文"),
        ("delivered", "报告已送达客户及史带"),
    ],
    "overseas_treatment": [
        ("decision", "已告知是否启动"),
        ("materials_complete", "资料已齐全"),
        ("history_translated", "病史已翻译"),
        ("hospital_accepted", "海外医院已接收"),
        ("visa_applied", "医疗签证已申请"),
        ("visa_granted", "医疗签证已获批"),
        ("local_escort_arranged", "当地陪诊已安排"),
        ("arranged", "海外就医已安排"),
        ("departed", "已出发"),
        ("returned", "已回国"),
        ("delivered", "服务报告及账单已交付史带"),
    ],
}

#: the milestone at which the service has started: the insured may cancel only before it (SPEC §4)
SERVICE_STARTS: dict[str, str] = {
    "green_outpatient": "arranged",
    "green_inpatient": "arranged",
    "domestic_escort": "arranged",
    "domestic_second_opinion": "expert_assigned",
    "overseas_second_opinion": "provider_chosen",
    "overseas_treatment": "hospital_accepted",
}

#: lines limited by city alone (seed: 以…就医陪诊城市列表为准): the insured names the hospital — from the
#: directory or typed — and eligibility checks only the city
CITY_ONLY: tuple[str, ...] = ("domestic_escort",)

#: from which milestone the insured may no longer cancel online: the service start, except that overseas treatment
#: has started once 英仕 told the insured it launches (seed: 确认启动海外综合服务) — issue 14
CANCEL_UNTIL: dict[str, str] = {**SERVICE_STARTS, "overseas_treatment": "decision"}

#: the document kind `deliver` hands to the insured and 史带, per line
DELIVERABLES: dict[str, str] = {
    "domestic_second_opinion": "report",
    "overseas_second_opinion": "report_translation",
    "overseas_treatment": "service_report",
}

#: status of a monitored overseas bill (英仕 never pays it)
BILL_STATUSES = {"received": "已收到", "verified": "已核对", "disputed": "有异议", "settled": "已结清"}

#: local escort abroad is capped per case (seed: 当地陪诊不超过 40h)
ESCORT_HOURS_CAP = 40


#: the milestone from which the service counts as arranged (seed: 若已完成安排但被保险人未在预定时间就医，亦视为该次
#: 服务已完成); the second opinions have no booking, so their service start stands for it
ARRANGED: dict[str, str] = {**SERVICE_STARTS, "overseas_treatment": "arranged"}


@dataclass(frozen=True)
class Reason:
    """Why a case was terminated; `manual` False = only set by its own action (launch, visa)."""

    label: str
    consumes_entitlement: bool
    lines: tuple[str, ...] | None = None
    manual: bool = True
    #: the unit is used up when the case had been arranged (ARRANGED), released before
    consumes_once_arranged: bool = False
    #: refused once this milestone is reached (e.g. 签证无法办理 only before any application)
    before_milestone: str | None = None


TERMINATION_REASONS: dict[str, Reason] = {
    "not_eligible": Reason("不符合服务条件（登记备案）", False),
    "materials_missing": Reason("无法提供服务所需的医疗资料", False),
    "launch_declined": Reason("经评估不启动海外服务", False, OVERSEAS, manual=False),
    "visa_refused": Reason("医疗签证被拒", False, ("overseas_treatment",), manual=False),
    # seed: 医疗签证无法办理 — e.g. the consulate will not accept an application at all
    "visa_impossible": Reason("医疗签证无法办理", False, ("overseas_treatment",), before_milestone="visa_applied"),
    "hospital_declined": Reason("因疾病类型海外医院无法接收", False, ("overseas_treatment",)),
    "cannot_travel": Reason("被保险人自身原因无法赴外就医", False, ("overseas_treatment",)),
    "insured_withdrew": Reason("被保险人撤回申请", False, consumes_once_arranged=True),
    "duplicate": Reason("重复申请", False),
    "declined_after_arrangement": Reason("服务已安排后被保险人放弃（视为已使用）", True),
    # SPEC §7: withdrawing the consent to process health data stops every open case (set by the rule only)
    "consent_withdrawn": Reason("被保险人撤回个人信息处理同意", False, manual=False),
}


@dataclass(frozen=True)
class ActionSpec:
    """One transition of the table; the lifecycle engine checks roles, line, status and milestones from it."""

    code: str
    label: str
    lines: tuple[str, ...] | None = None
    from_statuses: tuple[str, ...] = ("in_service",)
    #: for actions that set no milestone: must have been reached (a setter needs the one before it in MILESTONES)
    requires_milestone: str | None = None
    sets_milestone: str | None = None
    #: None = the status does not change (a handler may still close the case, e.g. launch declined)
    to_status: str | None = None
    roles: tuple[str, ...] = STAFF
    fields: tuple[str, ...] = ()
    #: refused once this milestone is reached; a mapping gives it per line
    until_milestone: str | Mapping[str, str] | None = None
    #: CaseEvent kind when neither status nor milestone changes (else transition / milestone)
    kind: str = "action"
    internal: bool = False


_OPEN = ("submitted", "verifying", "awaiting_documents", "in_service")
_ALL_STATUSES = (*_OPEN, "completed", "terminated", "cancelled")

#: every action, in the order the UI offers them; its guard and side rows are the function registered with
#: @handles(code) in portal.domain.handlers; how staff see it: portal/web/action_ui.py (docs/adding-an-action.md)
ACTIONS: dict[str, ActionSpec] = {spec.code: spec for spec in [
    ActionSpec("verify", "开始核实", from_statuses=("submitted",), to_status="verifying"),
    ActionSpec("accept", "核实通过，开始服务", from_statuses=("verifying",), to_status="in_service"),
    # green channel
    ActionSpec("confirm_hospital", "确认就诊医院", GREEN, sets_milestone="hospital_confirmed",
               fields=("hospital_id", "department", "admission_slip_date")),
    ActionSpec("book_appointment", "预约挂号", GREEN, sets_milestone="arranged",
               fields=("hospital_id", "department", "scheduled_at")),
    # corrections (issue 14): a booking moved, never edited; the old row stays, cancelled
    ActionSpec("reschedule_appointment", "改约就诊时间", GREEN, requires_milestone="arranged",
               until_milestone="visited", fields=("scheduled_at", "reason"), kind="service"),
    ActionSpec("record_visit", "登记就医结果", GREEN, sets_milestone="visited", to_status="completed",
               fields=("outcome",)),
    # domestic escort
    ActionSpec("record_escort_request", "记录陪诊需求", ("domestic_escort",), sets_milestone="request_recorded",
               fields=("hospital_id", "hospital_name", "starts_at", "ends_at")),
    ActionSpec("assign_escort", "安排陪诊员", ("domestic_escort",), sets_milestone="arranged",
               fields=("escort_id",)),
    ActionSpec("reschedule_escort", "改约陪诊时间", ("domestic_escort",), requires_milestone="arranged",
               until_milestone="escorted", fields=("starts_at", "ends_at", "reason"), kind="service"),
    ActionSpec("record_escort_outcome", "登记陪诊结果", ("domestic_escort",), sets_milestone="escorted",
               to_status="completed", fields=("outcome",)),
    # a recorded outcome corrected (issue 14): a new record with its reason, never an edit; both outcomes use the
    # unit (seed: 未在预定时间就医，亦视为该次服务已完成), so the case stays completed and the ledger does not move
    ActionSpec("correct_outcome", "更正就医结果", (*GREEN, "domestic_escort"), from_statuses=("completed",),
               fields=("outcome", "served_on", "reason"), kind="service"),
    # second opinions and overseas treatment
    ActionSpec("launch_decision", "告知启动决定", OVERSEAS, from_statuses=("verifying", "in_service"),
               sets_milestone="decision", to_status="in_service", fields=("launch", "note")),
    ActionSpec("materials_complete", "确认资料齐全", ("domestic_second_opinion", *OVERSEAS),
               sets_milestone="materials_complete"),
    ActionSpec("assign_expert", "指派专家", ("domestic_second_opinion",), sets_milestone="expert_assigned",
               fields=("expert_id",)),
    ActionSpec("issue_report", "出具报告", ("domestic_second_opinion",), sets_milestone="report_issued",
               fields=("document_id",)),
    ActionSpec("history_translated", "病史翻译完成", OVERSEAS, sets_milestone="history_translated"),
    ActionSpec("imaging_transferred", "影像传输完成", ("overseas_second_opinion",),
               sets_milestone="imaging_transferred"),
    ActionSpec("choose_provider", "选定海外医院与专家", ("overseas_second_opinion",),
               sets_milestone="provider_chosen", fields=("country", "hospital_id", "expert_id")),
    ActionSpec("report_received", "收到海外报告", ("overseas_second_opinion",), sets_milestone="report_received",
               fields=("document_id",)),
    ActionSpec("report_translated", "报告翻译完成", ("overseas_second_opinion",),
               sets_milestone="report_translated", fields=("document_id",)),
    ActionSpec("hospital_accepted", "海外医院同意接收", ("overseas_treatment",), sets_milestone="hospital_accepted",
               fields=("hospital_id",)),
    ActionSpec("visa_applied", "已申请医疗签证", ("overseas_treatment",), sets_milestone="visa_applied",
               fields=("applied_on",)),
    ActionSpec("visa_granted", "医疗签证获批", ("overseas_treatment",), sets_milestone="visa_granted",
               fields=("decided_on",)),
    ActionSpec("visa_refused", "医疗签证被拒", ("overseas_treatment",), requires_milestone="visa_applied",
               until_milestone="visa_granted", to_status="terminated", fields=("decided_on",)),
    ActionSpec("local_escort_arranged", "安排当地陪诊", ("overseas_treatment",),
               sets_milestone="local_escort_arranged", fields=("escort_name", "note")),
    ActionSpec("treatment_arranged", "海外就医已安排", ("overseas_treatment",), sets_milestone="arranged"),
    ActionSpec("departed", "客户已出发", ("overseas_treatment",), sets_milestone="departed", fields=("on",)),
    ActionSpec("log_escort_hours", "登记当地陪诊时长", ("overseas_treatment",), requires_milestone="departed",
               fields=("day", "hours", "escort_name"), kind="service"),
    ActionSpec("add_bill", "登记医疗账单", ("overseas_treatment",), requires_milestone="departed",
               fields=("hospital_name", "bill_date", "currency", "amount", "status"),
               kind="service"),
    ActionSpec("void_bill", "作废账单（录入有误）", ("overseas_treatment",), requires_milestone="departed",
               fields=("bill_id", "reason"), kind="service"),
    ActionSpec("void_escort_hours", "作废陪诊时长记录", ("overseas_treatment",), requires_milestone="departed",
               fields=("hour_log_id", "reason"), kind="service"),
    ActionSpec("update_bill", "更新账单状态", ("overseas_treatment",), requires_milestone="departed",
               fields=("bill_id", "status"), kind="service"),
    ActionSpec("returned", "客户已回国", ("overseas_treatment",), sets_milestone="returned", fields=("on",)),
    ActionSpec("deliver", "交付报告", tuple(DELIVERABLES), sets_milestone="delivered", to_status="completed",
               fields=("document_id",)),
    # common
    ActionSpec("request_documents", "要求补充资料", from_statuses=("verifying", "in_service"),
               to_status="awaiting_documents", fields=("kinds", "reason")),
    ActionSpec("documents_received", "资料已补齐", from_statuses=("awaiting_documents",)),
    ActionSpec("assign", "分派案件", from_statuses=_OPEN, roles=("supervisor",), fields=("assignee_id",),
               kind="assignment", internal=True),
    ActionSpec("note", "添加内部备注", from_statuses=tuple(_ALL_STATUSES), fields=("text",),
               kind="note", internal=True),
    ActionSpec("terminate", "终止服务", from_statuses=_OPEN, to_status="terminated", fields=("reason", "note")),
    # the seed asks 是否已开具住院条: an insured who applied before the slip existed enters its date later
    # (the 10-day clock starts then); once the hospital is confirmed the coordinator holds it (issue 14 item 8)
    ActionSpec("enter_admission_slip", "提交住院条开具日期", ("green_inpatient",), from_statuses=_OPEN,
               roles=("insured",), fields=("admission_slip_date",), until_milestone="hospital_confirmed",
               kind="service"),
    ActionSpec("cancel", "取消申请", from_statuses=_OPEN, to_status="cancelled", roles=("insured",),
               fields=("note",), until_milestone=CANCEL_UNTIL),
]}


def milestone_codes(line_code: str) -> list[str]:
    """The line's milestone codes in order."""
    return [code for code, _ in MILESTONES[line_code]]


def milestone_label(line_code: str, code: str | None) -> str:
    """Chinese label of a milestone ("" for none yet)."""
    return dict(MILESTONES.get(line_code, [])).get(code, code or "")


def required_milestone(spec: ActionSpec, line_code: str) -> str | None:
    """The milestone that must have been reached before `spec` may run on this line."""
    if spec.sets_milestone:
        codes = milestone_codes(line_code)
        index = codes.index(spec.sets_milestone)
        return codes[index - 1] if index else None
    return spec.requires_milestone


def until_milestone(spec: ActionSpec, line_code: str) -> str | None:
    """The milestone from which `spec` is refused on this line."""
    until = spec.until_milestone
    return until.get(line_code) if isinstance(until, Mapping) else until


def reached(case, milestone: str) -> bool:
    """True when the case's milestone is `milestone` or a later one of its line."""
    codes = milestone_codes(case.line_code)
    return milestone in codes and case.milestone in codes[codes.index(milestone):]


def consumes_entitlement(code: str | None, case) -> bool:
    """Whether terminating the case for reason `code` uses up its unit (SPEC §4)."""
    reason = TERMINATION_REASONS.get(code)
    if reason is None:
        return False
    return reason.consumes_entitlement or (reason.consumes_once_arranged and reached(case, ARRANGED[case.line_code]))


def reasons_for(line_code: str, *, manual_only: bool = True) -> dict[str, Reason]:
    """Termination reasons that apply to the line (those a coordinator may pick, by default)."""
    return {code: r for code, r in TERMINATION_REASONS.items()
            if (r.lines is None or line_code in r.lines) and (r.manual or not manual_only)}
