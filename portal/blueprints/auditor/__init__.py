"""史带 oversight (/audit): read-only by construction — GET routes only."""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("auditor", __name__)
bp.before_request(role_gate({"auditor"}))

from . import views  # noqa: E402,F401
