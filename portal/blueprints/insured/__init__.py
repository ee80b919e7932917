"""The insured's phone portal (/me): only their own policy, cases, documents and reports."""

from flask import Blueprint

from ...web.access import role_gate

bp = Blueprint("insured", __name__)
bp.before_request(role_gate({"insured"}))

# home and inbox in views, the request form in apply, tracking in cases, files in documents
from . import apply, cases, documents, privacy, views  # noqa: E402,F401
