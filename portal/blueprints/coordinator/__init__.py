"""英仕 coordinators and supervisors (/staff); supervisor-only screens check the role again."""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("coordinator", __name__)
bp.before_request(role_gate({"coordinator", "supervisor"}))

from . import admin, views  # noqa: E402,F401  (casework in views, supervisor screens in admin)
