"""Rate limits (Flask-Limiter) on login, registration and code entry, counted in the database.

Flask-Limiter's default `memory://` storage counts per process: behind gunicorn's N workers an attacker
gets N times the limit, and a restart forgets everything. No Redis or memcached runs beside the portal,
so the counters live in the portal's own database (`rate_limit_counter`, one upserted row per key and
window; `portaldb://`). Set RATELIMIT_STORAGE_URI to `redis://...` to move them elsewhere.

Keys: the client address alone (a flood from one place), and address + account (guessing one account's
password). Nothing is counted per account alone: that would let a stranger lock staff out from afar.
"""

import time

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

_INCR = text(
    "INSERT INTO rate_limit_counter (key, count, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_limit_counter.expires_at <= :now THEN :amount ELSE rate_limit_counter.count + :amount END, "
    "expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires "
    "ELSE rate_limit_counter.expires_at END "
    "RETURNING count")


class DatabaseStorage(Storage):
    """limits storage on the portal's database: atomic upserts on a connection of its own (the request's
    transaction is never touched, and a hit counts even when the request later rolls back)."""

    STORAGE_SCHEME = ["portaldb"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _engine():
        from ..extensions import db

        return db.engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._engine().begin() as connection:
            return connection.execute(_INCR, {"key": key[:250], "amount": amount, "expires": now + expiry,
                                              "now": now}).scalar_one()

    def _row(self, key: str):
        with self._engine().connect() as connection:
            return connection.execute(text("SELECT count, expires_at FROM rate_limit_counter WHERE key = :key"),
                                      {"key": key[:250]}).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row and row[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row and row[1] > time.time() else time.time()

    def check(self) -> bool:
        try:
            self._row("healthcheck")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as connection:
            return connection.execute(text("DELETE FROM rate_limit_counter")).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(text("DELETE FROM rate_limit_counter WHERE key = :key"), {"key": key[:250]})

    def purge_expired(self) -> int:
        """Drop finished windows (the outbox job calls this now and then)."""
        with self._engine().begin() as connection:
            return connection.execute(text("DELETE FROM rate_limit_counter WHERE expires_at < :now"),
                                      {"now": time.time()}).rowcount


limiter = Limiter(key_func=get_remote_address, strategy="fixed-window", headers_enabled=False)


def address_and_account() -> str:
    """The client address plus the account typed into the form (lower-cased, trimmed)."""
    account = (request.form.get("username") or "").strip().lower()[:60]
    return f"{get_remote_address()}|{account}"


def failed(response) -> bool:
    """Count a real guess that did not succeed (a good login redirects with 303; an empty form guesses nothing)."""
    return response.status_code != 303 and bool(request.form.get("username")) and bool(request.form.get("password"))


def count_attempt() -> None:
    """Called by a view when the request was a real attempt (a code sent, a code checked): the limit counts it."""
    g.rate_limit_attempt = True


def attempted(response) -> bool:
    """deduct_when for the registration limits: count what the view marked as a real attempt."""
    return g.get("rate_limit_attempt", False)


def configured(name: str):
    """The limit string from the config, read per request (tests set their own)."""
    return lambda: current_app.config[name]
