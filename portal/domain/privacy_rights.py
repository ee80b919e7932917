"""Retention and restricted processing (PIPL art. 19, 47; SPEC §7 Rights): nothing is hard-deleted, so a record
whose retention ended, or whose deletion was granted, is restricted — never served again except under the
audited legal-hold view — and the insured's deletion/restriction requests are decided on record."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import OPEN_STATUSES, Case, DataRequest, Document, Notification, Restriction, RetentionPeriod, utcnow
from . import auditlog, history
from .errors import DomainError
from .privacy_data import RESTRICTABLE

REQUEST_KINDS = {"deletion": "删除", "restriction": "限制处理"}
REQUEST_STATUSES = {"open": "待处理", "granted": "已同意", "refused": "未同意"}
RESTRICTED_LABEL = "已限制处理"


@dataclass
class RestrictResult:
    documents: int = 0
    case_texts: int = 0


def requests_of(insured) -> list[DataRequest]:
    return list(db.session.scalars(select(DataRequest).where(DataRequest.insured_id == insured.id)
                                   .order_by(DataRequest.id.desc())))


def open_requests() -> list[DataRequest]:
    """The supervisor's queue: undecided requests, oldest first."""
    return list(db.session.scalars(select(DataRequest).where(DataRequest.status == "open").order_by(DataRequest.id)))


def recent_decisions(limit: int = 20) -> list[DataRequest]:
    return list(db.session.scalars(select(DataRequest).where(DataRequest.status != "open")
                                   .order_by(DataRequest.decided_at.desc()).limit(limit)))


def file_request(insured, *, kind: str, text: str, actor, channel: str, now: datetime | None = None) -> DataRequest:
    """Queue a deletion or restriction request (the insured on the portal, or staff for a caller)."""
    if kind not in REQUEST_KINDS:
        raise DomainError("请选择删除或限制处理。", "kind")
    request = DataRequest(insured_id=insured.id, kind=kind, channel=channel, text=(text or "").strip()[:500] or None,
                          requested_by_id=actor.id, requested_at=now or utcnow(), status="open")
    db.session.add(request)
    db.session.flush()
    auditlog.record("privacy.request_filed", obj=request, actor=actor, detail={"kind": kind, "channel": channel})
    return request


def decide(request: DataRequest, *, grant: bool, reason: str, actor, now: datetime | None = None) -> RestrictResult:
    """A supervisor grants or refuses a request, with the reason the insured reads; a grant restricts at once."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if getattr(actor, "role", None) != "supervisor":
        raise DomainError("只有主管可以处理删除/限制处理请求。")
    if request.status != "open":
        raise DomainError("该请求已处理。")
    if not reason:
        raise DomainError("请填写处理理由，客户会看到这条说明。", "reason")
    result = RestrictResult()
    if grant:
        if db.session.scalar(select(Case.id).where(Case.insured_id == request.insured_id,
                                                   Case.status.in_(OPEN_STATUSES)).limit(1)) is not None:
            raise DomainError("该客户还有进行中的申请：请先结束或终止这些申请，再同意删除/限制处理。")
        for case in db.session.scalars(select(Case).where(Case.insured_id == request.insured_id)):
            _restrict_case(case, kinds=RESTRICTABLE, reason="deletion_request", request=request, actor=actor,
                           now=now, result=result)
    request.status, request.decided_by_id, request.decided_at = ("granted" if grant else "refused"), actor.id, now
    request.outcome_reason = reason[:300]
    db.session.add(Notification(insured_id=request.insured_id, title="您的个人信息请求已处理",
                                body=f"您提出的{REQUEST_KINDS[request.kind]}请求"
                                     f"{'已同意，相关资料已限制处理' if grant else '未获同意'}。说明：{reason}"))
    auditlog.record("privacy.request_decided", obj=request, actor=actor,
                    detail={"granted": grant, "reason": reason, "documents": result.documents,
                            "case_texts": result.case_texts})
    db.session.flush()
    return result


def restrict_expired(*, actor=None, now: datetime | None = None) -> RestrictResult:
    """The supervisor-run job: restrict every record whose retention period after its case closed has ended."""
    now = now or utcnow()
    result = RestrictResult()
    for period in db.session.scalars(select(RetentionPeriod).where(RetentionPeriod.data_kind.in_(RESTRICTABLE))):
        cutoff = _years_before(now, period.years)
        cases = db.session.scalars(select(Case).where(
            Case.policy.has(product_id=period.product_id), Case.closed_at.is_not(None), Case.closed_at < cutoff))
        for case in cases:
            _restrict_case(case, kinds=(period.data_kind,), reason="retention_expired", request=None, actor=actor,
                           now=now, result=result)
    auditlog.record("privacy.restrict", actor=actor, detail={"documents": result.documents,
                                                            "case_texts": result.case_texts})
    db.session.flush()
    return result


def _years_before(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _restrict_case(case, *, kinds, reason: str, request, actor, now: datetime, result: RestrictResult) -> None:
    """Restrict the case's documents and/or free text that are not restricted yet (idempotent): a Restriction
    row each, never a change of the record itself."""
    restricted = []
    done = set(db.session.execute(select(Restriction.object_type, Restriction.object_id)
                                  .where(Restriction.case_id == case.id)).all())
    if "documents" in kinds:
        for document in case.documents:
            if ("document", document.id) not in done:
                db.session.add(Restriction(object_type="document", object_id=document.id, case_id=case.id,
                                           reason=reason, request_id=getattr(request, "id", None),
                                           actor_id=getattr(actor, "id", None), at=now))
                restricted.append(document.original_name)
                result.documents += 1
    if "free_text" in kinds and ("case_text", case.id) not in done:
        db.session.add(Restriction(object_type="case_text", object_id=case.id, case_id=case.id, reason=reason,
                                   request_id=getattr(request, "id", None), actor_id=getattr(actor, "id", None),
                                   at=now))
        result.case_texts += 1
        restricted.append("病情描述与备注")
    if restricted:
        db.session.flush()
        db.session.expire(case, ["text_restriction"])
        for document in case.documents:
            db.session.expire(document, ["restriction"])
        why = "保存期限届满" if reason == "retention_expired" else "客户的删除/限制处理请求获准"
        history.append(case, actor=actor, kind="privacy", action="restricted",
                       summary=f"{why}，以下资料已限制处理（不再提供，仅可依法调阅）：{len(restricted)} 项",
                       data={"reason": reason, "request_id": getattr(request, "id", None),
                             "documents": result.documents}, now=now)


def legal_hold_document(document_id: int, *, reason: str, actor) -> Document:
    """The one way to open a restricted document: a supervisor states the legal ground; audited."""
    reason = (reason or "").strip()
    if getattr(actor, "role", None) != "supervisor":
        raise DomainError("只有主管可以依法调阅已限制处理的文件。")
    if not reason:
        raise DomainError("请填写调阅依据（如法院调查令编号）。", "reason")
    document = db.session.get(Document, document_id)
    if document is None or document.restricted_at is None:
        raise DomainError("没有这份已限制处理的文件。", "document_id")
    auditlog.record("privacy.legal_hold_view", obj=document, actor=actor, detail={"reason": reason[:300]})
    return document
