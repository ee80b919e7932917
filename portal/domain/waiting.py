"""While a case waits on the insured (SPEC §4, issue 14): an upload of what was asked ends the pause at once,
a rejected document starts it again."""

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Document, DocumentRequest, utcnow
from . import lifecycle
from .product_data import DOCUMENT_KINDS


def open_requests(case) -> list[DocumentRequest]:
    """The coordinator's requests the insured has not yet answered, oldest first."""
    return list(db.session.scalars(select(DocumentRequest).where(
        DocumentRequest.case_id == case.id, DocumentRequest.resolved_at.is_(None)).order_by(DocumentRequest.id)))


def requested_kinds(requests) -> list[str]:
    """Every kind the requests ask for, in request order, once."""
    return list(dict.fromkeys(kind for request in requests for kind in request.kinds))


def still_wanted(case, requests=None) -> list[str]:
    """The requested kinds with no upload since they were asked for (a rejected one does not count)."""
    requests = open_requests(case) if requests is None else requests
    if not requests:
        return []
    since = min(request.requested_at for request in requests)
    # a query, not case.documents: the uploads of this very request are not in a list loaded before them
    have = set(db.session.scalars(select(Document.kind).where(
        Document.case_id == case.id, Document.withdrawn_at.is_(None), Document.review_status != "rejected",
        Document.uploaded_at >= since)))
    return [kind for kind in requested_kinds(requests) if kind not in have]


def resume_if_supplied(case, *, actor, now: datetime | None = None) -> bool:
    """Every requested kind has arrived: back to where the case was, the clocks run again; True if so."""
    if case.status != "awaiting_documents":
        return False
    requests = open_requests(case)
    if not requests or still_wanted(case, requests):
        return False
    names = "、".join(DOCUMENT_KINDS.get(kind, kind) for kind in requested_kinds(requests))
    lifecycle.perform_automatic(case, "documents_received", actor=actor, now=now or utcnow(),
                                summary=f"所要求的资料已上传（{names}），服务时限恢复计算，待协调员审核")
    return True


def pause_again_if_rejected(document, *, actor, reason: str, now: datetime | None = None) -> bool:
    """A document that answered the last request was rejected: ask for it again, the clocks pause; True if so."""
    case = document.case
    if case.status not in ("verifying", "in_service"):
        return False
    last = db.session.scalar(select(DocumentRequest).where(DocumentRequest.case_id == case.id)
                             .order_by(DocumentRequest.id.desc()).limit(1))
    if last is None or last.resolved_at is None or document.kind not in last.kinds \
            or document.uploaded_at < last.requested_at:
        return False
    label = DOCUMENT_KINDS.get(document.kind, document.kind)
    lifecycle.perform(case, "request_documents", actor=actor, now=now or utcnow(), kinds=[document.kind],
                      reason=f"{label}“{document.original_name}”未通过审核：{reason}")
    return True
