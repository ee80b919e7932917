"""Casework views of coordinators and supervisors: the queue, hotline intake and the case workspace.

The routes live in views_queue.py, views_intake.py and views_case.py; this module wires them up and
gives every staff page the unread-alert count shown in the header.
"""

from flask_login import current_user

from . import bp, views_case, views_intake, views_privacy, views_queue  # noqa: F401  (registers the routes)
from .worklist import unread_alert_count


@bp.context_processor
def staff_header() -> dict:
    """The alert count in the header of every /staff page."""
    if not current_user.is_authenticated:
        return {}
    return {"alert_count": unread_alert_count(current_user)}
