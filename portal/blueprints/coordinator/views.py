"""Casework views of coordinators and supervisors: the queue, hotline intake and the case workspace.

The routes live in views_queue.py, views_intake.py and views_case.py; this module wires them up and
gives every staff page the unread-alert count shown in the header.
"""

from flask_login import current_user

from . import bp, views_case, views_intake, views_privacy, views_queue  # noqa: F401  (registers the routes)
from .worklist import unread_alert_count


class _OnFirstUse:
    """A template value counted when a template first prints or tests it: fragments that never show the
    header (a queue tab swap, a panel) never pay for the count."""

    def __init__(self, compute):
        self._compute, self._value, self._done = compute, None, False

    def _get(self):
        if not self._done:
            self._value, self._done = self._compute(), True
        return self._value

    def __bool__(self) -> bool:
        return bool(self._get())

    def __str__(self) -> str:
        return str(self._get())


@bp.context_processor
def staff_header() -> dict:
    """The alert count in the header of every /staff page (a view that has it already passes it)."""
    if not current_user.is_authenticated:
        return {}
    user = current_user._get_current_object()
    return {"alert_count": _OnFirstUse(lambda: unread_alert_count(user))}
