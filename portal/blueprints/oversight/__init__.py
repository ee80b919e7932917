"""史带's own account administration (/oversight): the auditor_admin role manages auditor accounts.

The provider (英仕) never controls the accounts of the insurer that oversees it: supervisors manage
英仕 staff only (portal.blueprints.coordinator.admin_staff); 史带 auditor accounts are created, reset and
(de)activated here, by an auditor_admin, or with `flask users` on the server.
"""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("oversight", __name__)
bp.before_request(role_gate({"auditor_admin"}))


from . import views  # noqa: E402,F401
