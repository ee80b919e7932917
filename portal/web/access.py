"""Role gates: one `before_request` per blueprint, and one app-wide refusal of every auditor write (logged)."""

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
        if current_user.role not in allowed:
            abort(403)
        return None

    return gate


#: the only writes an auditor may make, by endpoint and method: signing out, and marking a report sent to
#: 史带 as read (SPEC §6; the mark itself is audited). Everything else is refused and logged.
AUDITOR_WRITES = frozenset({("auth.logout", "POST"), ("auditor.inbox_read", "POST")})


def refuse_auditor_writes_anywhere():
    """403 + audit entry for any auditor write but AUDITOR_WRITES — registered before CSRF and routing answer,
    so a tokenless POST or a POST to a GET-only URL (405) is refused and logged too."""
    if (request.method not in SAFE_METHODS and (request.endpoint, request.method) not in AUDITOR_WRITES
            and current_user.is_authenticated and current_user.role == "auditor"):
        refuse_auditor_write()


def refuse_auditor_write():
    """Record the attempt in the audit log (its own transaction), then answer 403."""
    from ..domain.auditlog import record

    db.session.rollback()
    record("auditor.write_refused", detail={"method": request.method, "path": request.path})
    db.session.commit()
    abort(403)
