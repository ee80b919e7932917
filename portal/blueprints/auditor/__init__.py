"""史带 oversight (/audit): read-only by construction — GET routes only, but for marking a report 已阅."""

from flask import Blueprint

from ...web.access import role_gate
from .labels import labels

bp = Blueprint("auditor", __name__)
bp.before_request(role_gate({"auditor"}))
bp.context_processor(lambda: {"labels": labels()})


from . import inbox, integrity, views, weekly  # noqa: E402,F401
