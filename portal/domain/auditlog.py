"""The audit log: reads of sensitive data and changes outside a case's own history (SPEC §7)."""

from ..extensions import db
from ..models import AuditLog


def record(action: str, *, actor=None, ip: str | None = None, obj=None, case_id: int | None = None,
           detail: dict | None = None) -> AuditLog:
    """Append one audit row in the current transaction; the caller commits. `actor` None = the system
    (CLI, scheduler); `ip` the client address when a request caused it (portal.web.audit fills both)."""
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", "system"),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=getattr(obj, "id", None),
        case_id=case_id if case_id is not None else getattr(obj, "case_id", None),
        detail=detail or {},
        ip=ip,
    )
    db.session.add(entry)
    return entry
