"""Overseas lines: launch decision, visa, travel, local escort hours and monitored bills (SPEC §4)."""

import re
from decimal import Decimal

from sqlalchemy import func, select

from ... import calendar
from ...calendar import format_cn_date
from ...extensions import db
from ...models import Bill, EscortHourLog, Hospital, VisaApplication
from .. import lines, sla, transfers
from ..errors import DomainError
from ..product_data import HOTLINE
from .base import Step, as_bool, as_date, as_decimal, fetch, handles, hours_text, service_name
from .corrections import MAX_BILL_AMOUNT
from .reports import _overseas_hospital


@handles("launch_decision")
def launch_decision(step: Step) -> None:
    """Tell the insured whether the overseas service starts; "no" ends the case (launch_declined)."""
    if step.get("launch") is None:
        raise DomainError("请选择是否启动服务", field="launch")
    case, launch = step.case, as_bool(step.get("launch"))
    note = (step.get("note") or "").strip()
    case.launch_decision = launch
    step.summary = ("决定启动服务" if launch else "决定不启动服务") + (f"：{note}" if note else "")
    if launch:
        step.notify("服务已启动", f"经评估，我们将为您启动{service_name(case)}，专人将与您沟通资料收集等后续安排。")
    else:
        step.to_status, step.reason = "terminated", "launch_declined"
        step.notify("服务未能启动",
                    f"经评估，暂不能为您启动{service_name(case)}。" + (f"说明：{note}" if note else ""))


@handles("hospital_accepted")
def hospital_accepted(step: Step) -> None:
    """The chosen overseas hospital accepts the patient."""
    hospital = _overseas_hospital(step)
    transfer = transfers.send(step, hospital)  # refused until the insured consented to this recipient
    step.case.hospital_id, step.case.country = hospital.id, hospital.country
    step.data = {**step.data, "hospital": hospital.name}
    step.summary = (f"海外医院同意接收：{hospital.country} {hospital.name}"
                    f"；已按客户的出境同意发送资料（传输记录 {transfer.id}）")


def _past_date(step: Step, name: str, missing: str):
    """A date of something that happened: not in the future, not before the case was opened (issue 14)."""
    day = as_date(step.require(name, missing), name, "日期格式不正确")
    if day > step.today:
        raise DomainError("日期不能晚于今天", field=name)
    opened = calendar.to_business_date(step.case.submitted_at)
    if day < opened:
        raise DomainError(f"日期不能早于案件受理日 {opened.isoformat()}", field=name)
    return day


@handles("visa_applied")
def visa_applied(step: Step) -> None:
    """The medical visa application is filed."""
    applied_on = _past_date(step, "applied_on", "请填写签证申请日期")
    case = step.case
    visa = VisaApplication(case_id=case.id, country=case.country or "", applied_on=applied_on, status="applied",
                           created_at=step.now)
    db.session.add(visa)
    db.session.flush()
    step.data = {"visa_application_id": visa.id}
    step.summary = f"已申请{case.country or ''}医疗签证（{applied_on.isoformat()}）"
    step.notify("医疗签证已申请", f"我们已为您递交{case.country or ''}医疗签证申请（{format_cn_date(applied_on)}），"
                "有结果后会第一时间通知您。")


def _decide_visa(step: Step, status: str):
    visa = db.session.scalar(select(VisaApplication).where(
        VisaApplication.case_id == step.case.id, VisaApplication.status == "applied")
        .order_by(VisaApplication.id.desc()))
    if visa is None:
        raise DomainError("没有待审批的签证申请")
    decided_on = _past_date(step, "decided_on", "请填写签证结果日期")
    if decided_on < visa.applied_on:
        raise DomainError("签证结果日期不能早于申请日期", field="decided_on")
    visa.status, visa.decided_on = status, decided_on
    step.data = {"visa_application_id": visa.id}
    return visa


@handles("visa_granted")
def visa_granted(step: Step) -> None:
    """The visa is granted."""
    visa = _decide_visa(step, "granted")
    step.summary = f"医疗签证获批（{visa.decided_on.isoformat()}）"
    step.notify("医疗签证已获批", f"您的{visa.country}医疗签证已于 {format_cn_date(visa.decided_on)}获批，"
                "我们将继续为您安排当地陪诊和就医行程。")
    # the 40 working days count from the latest of materials complete, hospital acceptance and the visa's date
    started = sla.start(step.case, "visa_granted", on_date=visa.decided_on, now=step.now)
    for clock in started:
        step.data["clock_started"] = {"clock": clock.kind, "start_date": clock.start_date.isoformat(),
                                      "due_date": clock.due_date.isoformat()}


@handles("visa_refused")
def visa_refused(step: Step) -> None:
    """A refused visa can only end the service (terminated, visa_refused; the unit is released)."""
    visa = _decide_visa(step, "refused")
    step.reason = "visa_refused"
    step.summary = f"医疗签证被拒（{visa.decided_on.isoformat()}），服务终止"
    step.notify("医疗签证未获批准", f"很抱歉，您的{visa.country}医疗签证未获批准（{format_cn_date(visa.decided_on)}）。"
                f"根据服务细则，{service_name(step.case)}终止，占用的服务次数已退回。如有疑问请致电 {HOTLINE}。")


@handles("local_escort_arranged")
def local_escort_arranged(step: Step) -> None:
    """The local escort abroad is arranged."""
    name = step.require("escort_name", "请填写当地陪诊人员")
    note = (step.get("note") or "").strip()
    step.case.request_data = {**(step.case.request_data or {}), "local_escort": name}
    step.summary = f"安排当地陪诊：{name}" + (f"（{note}）" if note else "")


@handles("treatment_arranged")
def treatment_arranged(step: Step) -> None:
    """Everything is in place for the treatment abroad (= arranged); the insured is told."""
    case = step.case
    hospital = db.session.get(Hospital, case.hospital_id)
    escort = (case.request_data or {}).get("local_escort", "")
    step.summary = f"海外就医已安排：{hospital.name}"
    step.notify("海外就医已安排", f"您的海外就医已安排：{hospital.country}{hospital.city} {hospital.name}；"
                f"当地陪诊：{escort}。专人将与您确认行程。")


@handles("departed")
def departed(step: Step) -> None:
    """The insured left for treatment abroad."""
    day = _past_date(step, "on", "请填写出发日期")
    step.case.request_data = {**(step.case.request_data or {}), "departed_on": day.isoformat()}
    step.summary = f"客户已出发（{day.isoformat()}）"


@handles("returned")
def returned(step: Step) -> None:
    """The insured came home."""
    day = _past_date(step, "on", "请填写回国日期")
    left = (step.case.request_data or {}).get("departed_on")
    if left and day.isoformat() < left:
        raise DomainError("回国日期不能早于出发日期", field="on")
    step.case.request_data = {**(step.case.request_data or {}), "returned_on": day.isoformat()}
    step.summary = f"客户已回国（{day.isoformat()}）"


@handles("log_escort_hours")
def log_escort_hours(step: Step) -> None:
    """Local escort hours abroad; the case's total never exceeds the cap (seed: 不超过 40h)."""
    case = step.case
    day = _past_date(step, "day", "请填写陪诊日期")
    left = (case.request_data or {}).get("departed_on")
    if left and day.isoformat() < left:
        raise DomainError(f"陪诊日期不能早于出发日期 {left}", field="day")
    hours = as_decimal(step.require("hours", "请填写陪诊时长"), "hours", "陪诊时长须为数字")
    if hours <= 0 or hours != hours.quantize(Decimal("0.1")):
        raise DomainError("陪诊时长须大于 0，最多一位小数", field="hours")
    escort_name = (step.get("escort_name") or (case.request_data or {}).get("local_escort") or "").strip()
    if not escort_name:
        raise DomainError("请填写陪诊人员", field="escort_name")
    used = db.session.scalar(select(func.coalesce(func.sum(EscortHourLog.hours), 0))
                             .where(EscortHourLog.case_id == case.id, EscortHourLog.voided_at.is_(None)))
    used, cap = Decimal(used), Decimal(lines.ESCORT_HOURS_CAP)
    if used + hours > cap:
        raise DomainError(f"当地陪诊累计不得超过 {hours_text(cap)} 小时：已登记 {hours_text(used)} 小时，"
                          f"还可登记 {hours_text(cap - used)} 小时", field="hours")
    entry = EscortHourLog(case_id=case.id, day=day, hours=hours, escort_name=escort_name,
                          created_by_id=step.actor.id, created_at=step.now)
    db.session.add(entry)
    db.session.flush()
    step.data = {"escort_hour_log_id": entry.id, "total_hours": str(used + hours)}
    step.summary = (f"登记当地陪诊 {hours_text(hours)} 小时（{day.isoformat()}，{escort_name}），"
                    f"累计 {hours_text(used + hours)} 小时")


def _bill_status(step: Step) -> str:
    status = step.get("status") or "received"
    if status not in lines.BILL_STATUSES:
        raise DomainError("请选择账单状态", field="status")
    return status


@handles("add_bill")
def add_bill(step: Step) -> None:
    """A medical bill abroad, monitored (英仕 never pays it)."""
    case = step.case
    hospital_name = step.require("hospital_name", "请填写医院名称")
    bill_date = _past_date(step, "bill_date", "请填写账单日期")
    currency = str(step.require("currency", "请填写币种")).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise DomainError("币种须为三位字母代码，如 USD", field="currency")
    amount = as_decimal(step.require("amount", "请填写金额"), "amount", "金额须为数字")
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("金额须大于 0，最多两位小数", field="amount")
    if amount > MAX_BILL_AMOUNT:
        raise DomainError(f"金额超过单张账单上限 {MAX_BILL_AMOUNT:,}，请核对（如为多张账单请分别登记）", field="amount")
    bill = Bill(case_id=case.id, hospital_name=hospital_name, bill_date=bill_date, currency=currency, amount=amount,
                status=_bill_status(step), created_by_id=step.actor.id, created_at=step.now)
    db.session.add(bill)
    db.session.flush()
    step.data = {"bill_id": bill.id}
    step.summary = f"登记医疗账单：{hospital_name} {currency} {amount}（{lines.BILL_STATUSES[bill.status]}）"


@handles("update_bill")
def update_bill(step: Step) -> None:
    """Change a monitored bill's status."""
    bill = fetch(Bill, step.require("bill_id", "请选择账单"), "bill_id", "所选账单不存在")
    if bill.case_id != step.case.id:
        raise DomainError("所选账单不属于本案件", field="bill_id")
    status = step.require("status", "请选择账单状态") and _bill_status(step)
    step.data = {"bill_id": bill.id, "from": bill.status, "to": status}
    step.summary = (f"账单状态：{bill.hospital_name} {bill.currency} {bill.amount} "
                    f"{lines.BILL_STATUSES[bill.status]} → {lines.BILL_STATUSES[status]}")
    bill.status = status
