"""Updates for the insured: an inbox row, an e-mail when they have an address, else an SMS (issue 4, 13)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import mail, outbox, sms
from ..extensions import db
from ..models import Notification, User
from .product_data import HOTLINE


def insured(case, title: str, body: str, *, key: str | None = None, sms_note: str | None = None) -> Notification | None:
    """Tell the case's insured; the inbox row and the outbox message are part of the caller's transaction.

    Most hotline callers have no e-mail: they get the milestone as a short SMS to their phone instead.
    `emailed_at` is stamped by the outbox when the e-mail really left, never before. With `key` (unique), a
    notice already sent under that key is not sent again and None is returned: reminders go out once.
    `sms_note` is one sentence the short SMS must carry too (e.g. that a no-show counts as the service used)."""
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
    db.session.flush()
    address = (user.email if user else None) or case.insured.email
    phone = (user.phone if user else None) or case.insured.phone
    if address and mail.enabled():
        outbox.enqueue("email", address, f"{body}\n\n案件编号：{case.ref}\n服务热线：{HOTLINE}",
                       subject=f"【重疾就医保】{title}", purpose="case_update", notification=note)
    elif phone and sms.enabled():
        text = f"【重疾就医保】{title}：案件 {case.ref}。{sms_note or ''}详情请登录查看或致电 {HOTLINE}。"
        outbox.enqueue("sms", phone, text,
                       purpose="case_update", notification=note, params={"title": title[:20], "ref": case.ref})
    return note
