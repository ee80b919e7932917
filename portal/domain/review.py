"""Coordinators review the documents of a case: accept, or reject with a reason the insured reads (SPEC §4)."""

from datetime import datetime

from ..models import STAFF_ROLES, Document, utcnow
from . import history, notify
from .documents import kind_label, record_upload
from .errors import DomainError, StaleCaseError
from .waiting import pause_again_if_rejected

DECISIONS = {"accepted": "接受", "rejected": "退回"}


def _check(case, actor, expected_version: int | None) -> None:
    """The same who-may rule as lifecycle.perform: coordinators on their own or unassigned cases."""
    if expected_version is not None and expected_version != case.version:
        raise StaleCaseError()
    if actor.role not in STAFF_ROLES or (actor.role == "coordinator" and case.assignee_id not in (None, actor.id)):
        raise DomainError("该案件由其他协调员负责，您不能处理其资料。")
    if not case.is_open:
        raise DomainError("案件已结束，不能再处理资料。")


def _touch(case, now: datetime) -> None:
    # a write to the case's papers is a write to the case: it bumps the version other editors check
    case.updated_at = now


def review_document(document: Document, *, decision: str, reason: str = "", actor,
                    expected_version: int | None = None, now: datetime | None = None) -> Document:
    """Record a staff decision on one uploaded document and append it to the case history; flush only."""
    case = document.case
    _check(case, actor, expected_version)
    if decision not in DECISIONS:
        raise DomainError("请选择接受或退回。", "decision")
    reason = (reason or "").strip()
    if decision == "rejected" and not reason:
        raise DomainError("请填写退回原因，客户会看到这条说明。", "reason")
    if document.withdrawn_at is not None:
        raise DomainError("该文件已撤回，无需审核。")
    now = now or utcnow()
    document.review_status = decision
    document.review_reason = reason[:200] if decision == "rejected" else None
    document.reviewed_by_id = actor.id
    document.reviewed_at = now
    _touch(case, now)
    label = kind_label(document.kind)
    summary = f"资料审核：{label}“{document.original_name}”{DECISIONS[decision]}" + (f"（{reason}）" if reason else "")
    history.append(case, actor=actor, kind="document", action=f"document_{decision}", summary=summary,
                   data={"document_id": document.id, "decision": decision, "reason": reason}, now=now)
    if decision == "rejected" and not pause_again_if_rejected(document, actor=actor, reason=reason, now=now):
        notify.insured(case, "资料需要重新提供",
                       f"您上传的{label}“{document.original_name}”未通过审核：{reason}。请重新上传。")
    return document


def record_staff_upload(document: Document, *, actor, expected_version: int | None = None,
                        now: datetime | None = None) -> Document:
    """A document the coordinator uploaded for the insured (received by email or post) enters the history."""
    case = document.case
    _check(case, actor, expected_version)
    now = now or utcnow()
    _touch(case, now)
    record_upload(case, [document], actor=actor, now=now)
    return document
