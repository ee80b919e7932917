"""Outgoing email: console in development, SMTP in production, an in-memory outbox in tests."""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from .transaction import on_commit

log = logging.getLogger(__name__)


def outbox() -> list[EmailMessage]:
    """Messages sent with the `memory` backend (tests read this)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def send(to: str, subject: str, body: str, *, attachments=()) -> bool:
    """Send one plain-text message with (filename, bytes, mime type) attachments; never raises (a lost email
    must not undo a case change)."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    backend = config["MAIL_BACKEND"]
    try:
        if backend == "smtp":
            with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
                smtp.send_message(message)
        elif backend == "memory":
            outbox().append(message)
        elif backend == "console":
            log.warning("email to %s: %s\n%s", to, subject, body)
        else:
            return False
    except (OSError, smtplib.SMTPException):
        log.exception("email to %s failed", to)
        return False
    return True


def send_after_commit(session, to: str, subject: str, body: str) -> None:
    """Queue a message that leaves only if the transaction commits (no email about a rolled-back change)."""
    on_commit(session, lambda: send(to, subject, body))
