"""Idempotent creates (issue 14): each create form carries a random key; the first submission claims it
(unique constraint), a repeat finds it and is answered with the first one's result — never a copy."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import FormSubmission, utcnow
from .errors import DomainError

KEY_FIELD = "submission_key"
_KEY = re.compile(r"^[0-9a-f]{32}$")
EXPIRED = "页面已过期，请刷新页面后重新提交。"


def new_key() -> str:
    """A fresh key for a form being rendered."""
    return secrets.token_hex(16)


@dataclass
class Claim:
    """The submission holding the key; `repeat` True when an earlier request had claimed it."""

    row: FormSubmission
    repeat: bool

    def attach(self, case) -> None:
        """Remember what this submission created, so a repeat can be sent there."""
        self.row.case_id = case.id
        db.session.flush()


def claim(key: str | None, *, actor, purpose: str, now: datetime | None = None) -> Claim | None:
    """Claim the form's key inside the caller's transaction; a concurrent twin waits on the unique index
    and then finds the committed first one. A key of another user or purpose is refused; no key at all
    (a client other than our pages, which always send one) claims nothing and returns None."""
    key = (key or "").strip().lower()
    if not key:
        return None
    if not _KEY.match(key):
        raise DomainError(EXPIRED, KEY_FIELD)
    earlier = _find(key)
    if earlier is None:
        row = FormSubmission(key=key, user_id=getattr(actor, "id", None), purpose=purpose, created_at=now or utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(row)
            return Claim(row, repeat=False)
        except IntegrityError:
            earlier = _find(key)  # the twin committed first
            if earlier is None:
                raise DomainError(EXPIRED, KEY_FIELD) from None
    if earlier.user_id != getattr(actor, "id", None) or earlier.purpose != purpose:
        raise DomainError(EXPIRED, KEY_FIELD)
    return Claim(earlier, repeat=True)


def _find(key: str) -> FormSubmission | None:
    return db.session.scalar(select(FormSubmission).where(FormSubmission.key == key))


def is_repeat(key: str | None, *, actor, purpose: str) -> bool:
    """Claim the key; True when this submission was already made (the caller then writes nothing)."""
    claimed = claim(key, actor=actor, purpose=purpose)
    return claimed is not None and claimed.repeat
