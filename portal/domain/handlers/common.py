"""Actions every line has: documents, assignment, notes, termination, cancellation (SPEC §4)."""

from sqlalchemy import select

from ...extensions import db
from ...models import STAFF_ROLES, DocumentRequest, User
from .. import lines
from ..documents import kind_label, missing_kinds
from ..errors import DomainError
from ..product_data import DOCUMENT_KINDS
from .base import Step, fetch, handles, service_name


@handles("request_documents")
def request_documents(step: Step) -> None:
    """Ask the insured for more material; the clocks pause until it arrives."""
    kinds = step.get("kinds") or []
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace("，", ",").split(",") if k.strip()]
    kinds = [k.strip() for k in kinds]
    if not kinds:
        raise DomainError("请选择需要补充的资料", field="kinds")
    unknown = [k for k in kinds if k not in DOCUMENT_KINDS]
    if unknown:
        raise DomainError(f"未知的资料类型：{'、'.join(unknown)}", field="kinds")
    reason = step.require("reason", "请说明需要补充资料的原因")
    case = step.case
    request = DocumentRequest(case_id=case.id, kinds=kinds, reason=reason[:300],
                              requested_by_id=step.actor.id, requested_at=step.now)
    db.session.add(request)
    db.session.flush()
    case.resume_status = case.status
    names = "、".join(DOCUMENT_KINDS[k] for k in kinds)
    step.summary = f"要求补充资料：{names}（{reason}）"
    step.data = {"document_request_id": request.id, "kinds_cn": names}
    step.notify("请补充资料", f"为继续办理您的{service_name(case)}，请补充以下资料：{names}。原因：{reason}。"
                "补齐之前服务时限暂停计算。")


@handles("documents_received")
def documents_received(step: Step) -> None:
    """The insured supplied what was asked: back to where the case was; the clocks run again."""
    case = step.case
    open_requests = db.session.scalars(select(DocumentRequest).where(
        DocumentRequest.case_id == case.id, DocumentRequest.resolved_at.is_(None))).all()
    for request in open_requests:
        request.resolved_at = step.now
    step.to_status = case.resume_status or "verifying"
    case.resume_status = None
    step.data = {"resolved_requests": [r.id for r in open_requests]}
    step.notify("资料已补齐", f"您补充的资料已收到，{service_name(case)}继续办理，服务时限恢复计算。"
                "如资料审核未通过，我们会再通知您。")


@handles("materials_complete")
def materials_complete(step: Step) -> None:
    """Refused until every required document of the line is uploaded and accepted by a coordinator."""
    case = step.case
    missing = missing_kinds(case)
    unreviewed = [k for k in missing_kinds(case, accepted_only=True) if k not in missing]
    parts = [f"{word} {'、'.join(kind_label(k) for k in kinds)}"
             for word, kinds in (("缺少", missing), ("待审核", unreviewed)) if kinds]
    if parts:
        raise DomainError(f"资料尚未齐全：{'；'.join(parts)}")


@handles("assign")
def assign(step: Step) -> None:
    """A supervisor gives the case to an active coordinator or supervisor."""
    user = fetch(User, step.require("assignee_id", "请选择负责人"), "assignee_id", "所选负责人不存在")
    if user.role not in STAFF_ROLES or not user.active:
        raise DomainError("只能分派给在职的协调员或主管", field="assignee_id")
    step.data = {"assignee": user.display_name, "previous_assignee_id": step.case.assignee_id}
    step.case.assignee_id = user.id
    step.summary = f"分派给{user.display_name}"


@handles("note")
def note(step: Step) -> None:
    """An internal note, hidden from the insured."""
    text = step.require("text", "请填写备注内容")
    step.summary = f"内部备注：{text}"


@handles("terminate")
def terminate(step: Step) -> None:
    """End the service with a reason; whether the unit is used up follows the reason (SPEC §4)."""
    case = step.case
    code = step.require("reason", "请选择终止原因")
    reason = lines.reasons_for(case.line_code).get(code)
    if reason is None:
        raise DomainError("该终止原因不适用于本案件", field="reason")
    if reason.consumes_entitlement:
        started = lines.SERVICE_STARTS[case.line_code]
        if case.milestone not in _reached_from(case.line_code, started):
            label = lines.milestone_label(case.line_code, started)
            raise DomainError(f"服务尚未安排（需先“{label}”），不能以“{reason.label}”终止", field="reason")
    if reason.before_milestone and lines.reached(case, reason.before_milestone):
        label = lines.milestone_label(case.line_code, reason.before_milestone)
        raise DomainError(f"案件已“{label}”，不能以“{reason.label}”终止", field="reason")
    step.reason = code
    note_text = (step.get("note") or "").strip()
    step.summary = f"终止服务：{reason.label}" + (f"（{note_text}）" if note_text else "")
    if reason.consumes_once_arranged and lines.consumes_entitlement(code, case):
        step.summary += "；服务已安排，视为该次服务已完成（占用服务次数）"


@handles("cancel")
def cancel(step: Step) -> None:
    """The insured withdraws before the service starts; the unit is released."""
    note_text = (step.get("note") or "").strip()
    step.summary = "客户取消申请" + (f"：{note_text}" if note_text else "")


def _reached_from(line_code: str, milestone: str) -> list[str]:
    """Milestones at or after `milestone` in the line's order."""
    codes = lines.milestone_codes(line_code)
    return codes[codes.index(milestone):]
