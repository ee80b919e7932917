"""Updates for the insured: an inbox row, and an email when they gave an address (issue 4)."""

from sqlalchemy import select

from .. import mail
from ..extensions import db
from ..models import Notification, User, utcnow
from .product_data import HOTLINE


def insured(case, title: str, body: str) -> Notification:
    """Tell the case's insured; the inbox row is part of the caller's transaction."""
    user = db.session.scalar(select(User).where(User.insured_id == case.insured_id))
    note = Notification(insured_id=case.insured_id, user_id=getattr(user, "id", None), case_id=case.id,
                        title=title, body=body)
    db.session.add(note)
    address = (user.email if user else None) or case.insured.email
    if address:
        mail.send_after_commit(db.session, address, f"【重疾就医保】{title}",
                               f"{body}\n\n案件编号：{case.ref}\n服务热线：{HOTLINE}")
        note.emailed_at = utcnow()  # queued; it leaves when the transaction commits
    db.session.flush()
    return note
