"""The insured's phone portal (/me): only their own policy, cases, documents and reports."""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("insured", __name__)
bp.before_request(role_gate({"insured"}))

from . import views  # noqa: E402,F401
