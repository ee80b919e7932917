"""Updates for the insured: an inbox row, and an email when they gave an address (issue 4)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..extensions import db
from ..models import Notification, User, utcnow


def insured(case, title: str, body: str, *, key: str | None = None) -> Notification | None:
    """Tell the case's insured; the inbox row is part of the caller's transaction. With `key` (unique), a
    notice already sent under that key is not sent again (None is returned): reminders go out once."""
    user = db.session.scalar(select(User).where(User.insured_id == case.insured_id))
    note = Notification(insured_id=case.insured_id, user_id=getattr(user, "id", None), case_id=case.id,
                        title=title, body=body, key=key)
    if key is not None:
        if db.session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
            return None
        try:
            with db.session.begin_nested():
                db.session.add(note)
        except IntegrityError:
            return None  # a concurrent run sent it first
    else:
        db.session.add(note)
    address = (user.email if user else None) or case.insured.email
    if address:
        mail.send_after_commit(db.session, address, f"【重疾就医保】{title}",
                               f"{body}\n\n案件编号：{case.ref}\n服务热线：400-606-5033")
        note.emailed_at = utcnow()  # queued; it leaves when the transaction commits
    db.session.flush()
    return note
