"""Role gates: one `before_request` per blueprint, and one app-wide refusal of every auditor write (logged)."""

from collections.abc import Iterable

from flask import abort, flash, make_response, redirect, request
from flask_login import current_user
from flask_login.utils import login_url

from ..extensions import db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the only POSTs an auditor may send: signing out, checking receipts (writes only its audit-log row), and
#: the ID-number search (a POST so the number stays out of URLs)
AUDITOR_READ_POSTS = frozenset({"auth.logout", "auditor.receipt_verify", "auditor_search.by_id_number"})
#: the auditor's one write: marking a report sent to 史带 as 已阅 (SPEC §6; audited as insurer_delivery.read)
AUDITOR_WRITES = frozenset({"auditor.inbox_read"})
#: every POST an auditor may send; anything else is refused and logged
AUDITOR_POSTS = AUDITOR_READ_POSTS | AUDITOR_WRITES


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


def refuse_auditor_writes_anywhere():
    """403 + audit entry for any auditor write except AUDITOR_POSTS — registered before CSRF and routing answer,
    so a tokenless POST or a POST to a GET-only URL (405) is refused and logged too."""
    if (not (request.method in SAFE_METHODS or (request.method == "POST" and request.endpoint in AUDITOR_POSTS))
            and current_user.is_authenticated and current_user.role == "auditor"):
        refuse_auditor_write()


def refuse_auditor_write():
    """Record the attempt in the audit log (its own transaction), then answer 403."""
    from .audit import record

    db.session.rollback()
    record("auditor.write_refused", detail={"method": request.method, "path": request.path})
    db.session.commit()
    abort(403)


def unauthorized():
    """A visitor without a session: the login page, coming back here after it. An htmx request answers
    401 with HX-Redirect instead, so an expired session reloads the whole page at the login (with `next` =
    the page the user was on) rather than swapping a login page into a polling panel."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 401)
        back = request.headers.get("HX-Current-URL") or request.url
        response.headers["HX-Redirect"] = login_url(login_manager.login_view, next_url=back)
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))
