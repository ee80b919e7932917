"""Supervisor screens: assignment, directories, staff, policies, holiday calendar.

The blueprint gate lets coordinators and supervisors in; every view here also carries
`supervisor_required`. The screens live in admin_*.py, imported at the bottom.
"""

from functools import wraps

from flask import abort
from flask_login import current_user


def supervisor_required(view):
    """Refuse (403) anyone but a supervisor; the blueprint gate has already required a login."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != "supervisor":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


from . import admin_assign, admin_calendar, admin_directory, admin_policies, admin_staff  # noqa: E402,F401
