"""The outbox: every SMS and e-mail is a row first, and is claimed as sent only once the transport took it.

`enqueue` adds the row to the caller's transaction and asks for one delivery attempt right after the
commit (a registration code must not wait for the scheduler). `deliver_due` — the scheduler's
`outbox_drain` job, every minute — retries what failed, with growing pauses, and gives up after
MAX_ATTEMPTS (status `failed`, the last error kept: visible, never silently lost). Delivery runs on a
connection of its own, claiming each row first, so two processes never send the same message.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from . import mail, sms
from .extensions import db
from .models import Alert, Notification, OutboundMessage, utcnow
from .transaction import on_commit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
#: pause before attempt n+1 (minutes): 1, 2, 5, 15, 60
BACKOFF = (1, 2, 5, 15, 60)
#: a claimed row whose sender died is retried after this long
CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class Delivered:
    sent: int
    retrying: int
    failed: int


def enqueue(channel: str, recipient: str, body: str, *, purpose: str, subject: str | None = None,
            notification: Notification | None = None, alert_id: int | None = None, params: dict | None = None,
            send_now: bool = True) -> OutboundMessage:
    """Queue one message in the caller's transaction; it is tried once just after the commit. `params` are
    the variables an SMS provider's approved template needs (the body is the whole text, for the console)."""
    message = OutboundMessage(channel=channel, recipient=recipient[:120], subject=subject, body=body,
                              params=params or {},
                              purpose=purpose, status="pending", attempts=0, next_attempt_at=utcnow(),
                              notification_id=getattr(notification, "id", None), alert_id=alert_id)
    db.session.add(message)
    db.session.flush()
    if send_now:
        app, message_id = current_app._get_current_object(), message.id
        on_commit(db.session, lambda: _after_commit(app, message_id))
    return message


def _after_commit(app, message_id: int) -> None:
    try:
        with app.app_context():
            deliver_due(ids=[message_id])
    except Exception:  # the scheduler will retry; a lost attempt must not fail the request that committed
        log.exception("outbox: immediate delivery of message %s failed", message_id)


def deliver_due(*, now: datetime | None = None, ids: list[int] | None = None, limit: int = 200) -> Delivered:
    """Try every due message (or just `ids`): claim, send, record. Runs outside the request's transaction."""
    now = now or utcnow()
    engine = db.engine
    query = (select(OutboundMessage.id)
             .where(OutboundMessage.status.in_(("pending", "sending")), OutboundMessage.next_attempt_at <= now)
             .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(limit))
    if ids is not None:
        query = query.where(OutboundMessage.id.in_(ids))
    with engine.connect() as connection:
        due = list(connection.execute(query).scalars())
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for message_id in due:
        counts[_deliver_one(engine, message_id, now)] += 1
    return Delivered(**counts)


def _deliver_one(engine, message_id: int, now: datetime) -> str:
    table = OutboundMessage.__table__
    with engine.begin() as connection:
        claimed = connection.execute(
            update(table).where(table.c.id == message_id, table.c.status.in_(("pending", "sending")),
                                table.c.next_attempt_at <= now)
            .values(status="sending", next_attempt_at=now + CLAIM, attempts=table.c.attempts + 1)
            .returning(table.c.channel, table.c.recipient, table.c.subject, table.c.body, table.c.purpose,
                       table.c.params, table.c.attempts, table.c.notification_id, table.c.alert_id)).first()
    if claimed is None:
        return "retrying"  # another process has it
    try:
        if claimed.channel == "sms":
            sms.deliver(claimed.recipient, claimed.body, purpose=claimed.purpose, params=claimed.params or {})
        else:
            mail.deliver(claimed.recipient, claimed.subject or "", claimed.body)
    except Exception as error:  # any transport error: keep the row, say why, try again later
        give_up = claimed.attempts >= MAX_ATTEMPTS
        pause = timedelta(minutes=BACKOFF[min(claimed.attempts, len(BACKOFF)) - 1])
        with engine.begin() as connection:
            connection.execute(update(table).where(table.c.id == message_id).values(
                status="failed" if give_up else "pending", next_attempt_at=now + pause,
                last_error=f"{type(error).__name__}: {error}"[:300]))
        log.warning("outbox: %s to %s failed (attempt %s): %s", claimed.channel, claimed.recipient,
                    claimed.attempts, error)
        return "failed" if give_up else "retrying"
    sent_at = utcnow()
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == message_id)
                           .values(status="sent", sent_at=sent_at, last_error=None))
        if claimed.notification_id and claimed.channel == "email":
            notes = Notification.__table__
            connection.execute(update(notes).where(notes.c.id == claimed.notification_id).values(emailed_at=sent_at))
        if claimed.alert_id:
            alerts = Alert.__table__
            connection.execute(update(alerts).where(alerts.c.id == claimed.alert_id, alerts.c.emailed_at.is_(None))
                               .values(emailed_at=sent_at))
    return "sent"

