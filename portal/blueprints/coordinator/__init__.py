"""英仕 coordinators and supervisors (/staff): the queue, hotline intake, the case workspace."""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("coordinator", __name__)
bp.before_request(role_gate({"coordinator", "supervisor"}))

from . import views  # noqa: E402,F401  (registers the routes; supervisor screens are blueprints/supervisor)
