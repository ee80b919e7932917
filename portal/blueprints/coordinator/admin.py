"""Supervisor screens: assignment, directories, staff, policies, holiday calendar.

The blueprint gate lets coordinators and supervisors in; every view here also carries
`supervisor_required`. The screens live in admin_*.py, imported at the bottom.
"""

from functools import wraps

from flask import abort, request
from flask_login import current_user

PER_PAGE = 25


def supervisor_required(view):
    """Refuse (403) anyone but a supervisor; the blueprint gate has already required a login."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != "supervisor":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(default: str) -> str:
    """The `next` path from the form or query, if it stays on this site; `default` otherwise."""
    target = (request.form.get("next") or request.args.get("next") or "").strip()
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def page_number() -> int:
    """The ?page= argument, 1 when missing or nonsense."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def read_upload(file_storage) -> str | None:
    """The text of an uploaded CSV/JSON: UTF-8 (with or without BOM), else GBK as Excel saves it; None if neither."""
    raw = file_storage.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


from . import admin_assign, admin_calendar, admin_directory, admin_policies, admin_staff  # noqa: E402,F401
