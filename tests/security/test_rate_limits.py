"""Flask-Limiter on login, registration, code entry and resend; counters shared through the database (item 4)."""

import helpers
import pytest
from security_world import PASSWORD
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import RateLimitCounter
from portal.web.ratelimit import DatabaseStorage


@pytest.fixture
def tight(app):
    app.config.update(RATELIMIT_LOGIN_ACCOUNT="3 per minute", RATELIMIT_LOGIN_ADDRESS="6 per minute",
                      RATELIMIT_REGISTER="2 per minute", RATELIMIT_CODE="2 per minute", RATELIMIT_RESEND="1 per minute")
    return app


def _guess(client, username, password="wrong-guess", addr="203.0.113.5"):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": addr})


def test_guesses_at_one_account_from_one_address_are_limited(tight, world):
    client = tight.test_client()
    assert [_guess(client, "sec_c1").status_code for _ in range(4)] == [422, 422, 422, 429]
    # the right password from the same address waits too; from elsewhere it works (no lock-out of staff)
    assert _guess(client, "sec_c1", PASSWORD).status_code == 429
    assert _guess(client, "sec_c1", PASSWORD, addr="198.51.100.1").status_code == 303


def test_unknown_and_known_accounts_are_limited_alike(tight, world):
    client = tight.test_client()
    known = [_guess(client, "sec_c1").status_code for _ in range(4)]
    unknown = [_guess(client, "no_such_user").status_code for _ in range(4)]
    assert known == unknown == [422, 422, 422, 429]


def test_one_address_guessing_many_accounts_is_limited(tight, world):
    client = tight.test_client()
    codes = [_guess(client, f"user{n}").status_code for n in range(8)]
    assert codes[:6] == [422] * 6 and codes[6:] == [429, 429]


def test_successful_logins_do_not_count(tight, world):
    client = tight.test_client()
    assert all(_guess(client, "sec_c1", PASSWORD).status_code == 303 for _ in range(5))


def test_the_counters_are_shared_by_every_app_instance(tight, world, database_url, tmp_path):
    """Two workers (two app instances) on one database see one counter: the limit is not per process."""
    other = create_app({**helpers.test_config(), "SQLALCHEMY_DATABASE_URI": database_url,
                        "UPLOAD_DIR": str(tmp_path / "u2"), "RATELIMIT_LOGIN_ACCOUNT": "3 per minute"})
    first, second = tight.test_client(), other.test_client()
    try:
        assert [_guess(first, "sec_c1").status_code, _guess(second, "sec_c1").status_code,
                _guess(first, "sec_c1").status_code, _guess(second, "sec_c1").status_code] == [422, 422, 422, 429]
    finally:
        with other.app_context():
            db.engine.dispose()
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) >= 1


def test_registration_requests_and_code_entries_are_limited(tight, world):
    client = tight.test_client()
    form = {"name": "某人", "id_type": "id_card", "id_number": world.person_a.id_number, "policy_no": "NOPE"}
    assert [client.post("/register", data=form).status_code for _ in range(3)] == [303, 303, 429]
    code = {"code": "123456", "username": "someone", "password": "Kx7-long-enough", "confirm": "Kx7-long-enough"}
    assert [client.post("/register/code", data=code).status_code for _ in range(3)] == [422, 422, 429]
    assert [client.post("/register/resend").status_code for _ in range(2)] == [303, 429]


def test_database_storage_windows_expire(app):
    storage = DatabaseStorage()
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60) == 2 and storage.get("k") == 2
    assert storage.incr("gone", -1) == 1 and storage.get("gone") == 0  # an expired window counts as empty
    assert storage.incr("gone", 60) == 1  # and restarts at one
    assert storage.purge_expired() == 0
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()
