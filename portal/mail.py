"""Outgoing email transport: console in development, SMTP in production, an in-memory list in tests.

Messages are rows of the outbox (portal.outbox), which calls `deliver` and records whether it worked —
except the reports sent to 史带 (portal.domain.insurer.send_pending), whose weekly XLSX attachment the outbox
cannot carry yet; their rows record the same way.
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """The transport refused or failed; the outbox retries later."""


def outbox() -> list[EmailMessage]:
    """Messages sent with the `memory` backend (tests read this)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def enabled() -> bool:
    return current_app.config.get("MAIL_BACKEND") != "none"


def deliver(to: str, subject: str, body: str, *, attachments=()) -> None:
    """Hand one plain-text message, with (filename, bytes, mime type) attachments, to the configured transport;
    DeliveryError when it did not take it."""
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
            raise DeliveryError(f"mail backend {backend!r} sends nothing")
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
