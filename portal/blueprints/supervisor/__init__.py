"""英仕 supervisors: assignment, directories, staff accounts, policy import, holiday calendar (SPEC §1).

Registered under /staff like the coordinator screens (its pages live under /staff/admin, the assign action on
the case URL /staff/cases/<id>/assign); the gate admits supervisors only, so no view repeats the check.
"""

from flask import Blueprint

from ...web.access import role_gate
from ..coordinator.views import staff_header

bp = Blueprint("supervisor", __name__)
bp.before_request(role_gate({"supervisor"}))
bp.context_processor(staff_header)

from . import assign, calendar, deliveries, directory, policies, privacy, staff  # noqa: E402,F401  (registers the routes)
