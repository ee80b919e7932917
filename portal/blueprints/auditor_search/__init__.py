"""The auditor's search by ID number: a POST, so the full number never lands in a URL or an access log.

It reads only. It lives outside the auditor blueprint, which stays GET-only by construction, and is the
one auditor POST besides logout that portal.web.access lets through (AUDITOR_READ_POSTS); it is audited.
"""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("auditor_search", __name__)
bp.before_request(role_gate({"auditor"}))


from . import views  # noqa: E402,F401
