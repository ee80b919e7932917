"""Role gates: one `before_request` per blueprint; auditor write attempts are refused and logged."""

from collections.abc import Iterable

from flask import abort, request
from flask_login import current_user

from ..extensions import db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def role_gate(roles: Iterable[str]):
    """Build a before_request hook: anonymous → login, wrong role → 403 (auditor writes logged)."""
    allowed = frozenset(roles)

    def gate():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role == "auditor" and request.method not in SAFE_METHODS:
            refuse_auditor_write()
        if current_user.role not in allowed:
            abort(403)
        return None

    return gate


def refuse_auditor_write():
    """Record the attempt in the audit log (its own transaction), then answer 403."""
    from ..domain.auditlog import record

    db.session.rollback()
    record("auditor.write_refused", detail={"method": request.method, "path": request.path})
    db.session.commit()
    abort(403)
