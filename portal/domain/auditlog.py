"""The audit log: reads of sensitive data and changes outside a case's own history (SPEC §7)."""

from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from ..models import AuditLog


def record(action: str, *, obj=None, case_id: int | None = None, detail: dict | None = None,
           actor=None) -> AuditLog:
    """Append one audit row in the current transaction; the caller commits."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", "system"),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=getattr(obj, "id", None),
        case_id=case_id if case_id is not None else getattr(obj, "case_id", None),
        detail=detail or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
