"""One way every form view saves: run the domain call, commit once, or roll back and put the refusal at
the field that caused it (STYLE: "Chinese messages at the field that caused them")."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm.exc import StaleDataError

from ..domain.errors import DomainError, StaleCaseError
from ..extensions import db

#: the one wording of a stale save (someone else changed the case since the page was loaded)
STALE_MESSAGE = StaleCaseError().message
#: the same refusal of a request the page sent again after the network lost it (static/js/submit-once.js):
#: the lost first try may itself have moved the case on, so it is not called someone else's change
RESENT_MESSAGE = ("网络中断后页面自动重发了这次提交，而案件已有更新：您的操作可能已经保存。"
                  "请刷新案件查看记录，确认未保存再重新操作。")

#: domain field names a form shows under another name (files are uploaded first, then referenced by id)
FIELD_ALIASES = {"document_id": ("upload",), "files": ("upload", "file", "admission_slip"),
                 "consent": ("consent_read",)}


@dataclass(frozen=True)
class Saved:
    """What `save` did: `ok` with the write's return `value`, or refused with a status and message."""

    ok: bool
    value: Any = None
    status: int = 200
    message: str = ""


def save(form, write: Callable[[], Any], *, field: str | None = None) -> Saved:
    """Run `write()` and commit. A refusal rolls back and is shown at its field, else at `field`, else
    above the form: stale 409, any other domain refusal 422."""
    try:
        value = write()
        db.session.commit()
        return Saved(True, value)
    except (StaleCaseError, StaleDataError):
        db.session.rollback()
        return stale(form, field=field)
    except DomainError as error:
        db.session.rollback()
        return refuse(form, error.message, field=_field_name(form, error.field) or field)


def refuse(form, message: str, *, status: int = 422, field: str | None = None) -> Saved:
    """Put `message` at `field` of the form (above the form when it has none) and say so; with no form
    (a one-button post) the caller shows the message."""
    target = form._fields.get(field) if form is not None and field else None
    if target is not None:
        target.errors = [*target.errors, message]
    elif form is not None:
        form.form_errors.append(message)
    return Saved(False, status=status, message=message)


def stale(form, *, field: str | None = None) -> Saved:
    """The stale-save refusal, for a write that cannot be checked (no version) or is already out of date."""
    resent = has_request_context() and request.headers.get("X-Resubmit")
    return refuse(form, RESENT_MESSAGE if resent else STALE_MESSAGE, status=409, field=field)


def form_status(form) -> int:
    """422 for a form that was submitted and is shown again (it has errors), 200 for a first view."""
    return 422 if form.is_submitted() else 200


def _field_name(form, name: str | None) -> str | None:
    if name is None or form is None:
        return None
    return next((n for n in (*FIELD_ALIASES.get(name, ()), name) if n in form._fields), None)
