"""Audit what the current request does: the domain's audit log, with this request's user and address."""

from flask import request
from flask_login import current_user

from ..domain import auditlog


def who() -> dict:
    """`actor` and `ip` of the current request, as the domain's audited functions take them."""
    return {"actor": current_user if current_user.is_authenticated else None, "ip": request.remote_addr}


def record(action: str, **kwargs):
    """One audit row for a read or a refusal in this request (the caller commits)."""
    return auditlog.record(action, **who(), **kwargs)
