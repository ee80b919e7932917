"""史带 oversight (/audit): read-only by construction — GET routes only."""

from flask import Blueprint, request
from flask_login import current_user

from ...web.access import SAFE_METHODS, refuse_auditor_write, role_gate
from .labels import labels

bp = Blueprint("auditor", __name__)
bp.before_request(role_gate({"auditor"}))
bp.context_processor(lambda: {"labels": labels()})


@bp.before_app_request
def refuse_auditor_writes_anywhere():
    """403 + audit entry for any auditor write outside sign-in/out, also where no route matches the
    method: a POST to a GET-only URL never reaches the blueprint gate (Flask answers 405 first)."""
    if (request.method not in SAFE_METHODS and request.blueprint != "auth"
            and current_user.is_authenticated and current_user.role == "auditor"):
        refuse_auditor_write()


from . import views, weekly  # noqa: E402,F401
