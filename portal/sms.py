"""Outgoing SMS: a small provider interface, a console backend for development, memory for tests.

SMS_BACKEND selects the transport:
- `console` (development default): the text is written to the log, so `make run` shows registration codes;
- `memory`: kept in a list (tests read `sms.outbox()`);
- `none`: SMS switched off (messages stay in the outbox as failed, visible to operators);
- `module:Class`: any class with `send(phone, text, *, purpose, params)` raising on failure, built once per app
  with the app config (see portal/sms_aliyun.py for the Alibaba Cloud adapter, `pip install .[sms-aliyun]`).
"""

import importlib
import logging
from typing import Protocol

from flask import current_app

from .mail import DeliveryError

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    """What a provider adapter offers: send one text or raise."""

    def send(self, phone: str, text: str, *, purpose: str, params: dict) -> None: ...


class ConsoleProvider:
    def __init__(self, config=None):
        pass

    def send(self, phone: str, text: str, *, purpose: str, params: dict) -> None:
        log.warning("SMS to %s (%s): %s", phone, purpose, text)


class MemoryProvider:
    def __init__(self, config=None):
        pass

    def send(self, phone: str, text: str, *, purpose: str, params: dict) -> None:
        outbox().append({"to": phone, "text": text, "purpose": purpose, "params": params})


BUILTIN = {"console": ConsoleProvider, "memory": MemoryProvider}


def outbox() -> list[dict]:
    """Texts sent with the `memory` backend."""
    return current_app.extensions.setdefault("sms_outbox", [])


def enabled() -> bool:
    return current_app.config.get("SMS_BACKEND", "console") != "none"


def provider() -> SmsProvider:
    """The configured provider, built once per app."""
    cached = current_app.extensions.get("sms_provider")
    name = current_app.config.get("SMS_BACKEND", "console")
    if cached is not None and cached[0] == name:
        return cached[1]
    if name == "none":
        raise DeliveryError("SMS backend 'none' sends nothing")
    if name in BUILTIN:
        instance = BUILTIN[name](current_app.config)
    else:
        module, _, cls = name.partition(":")
        instance = getattr(importlib.import_module(module), cls)(current_app.config)
    current_app.extensions["sms_provider"] = (name, instance)
    return instance


def deliver(phone: str, text: str, *, purpose: str, params: dict | None = None) -> None:
    """Send one text; DeliveryError (or the provider's own exception) when it failed."""
    provider().send(phone, text, purpose=purpose, params=params or {})
