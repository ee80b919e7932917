"""Shared fixtures: a freshly migrated database per test (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
clients logged in as any role, and factories for the rows most tests need."""

import itertools
import os
import sqlite3
import time
from contextlib import closing
from datetime import date

import pytest
from flask import g, request_started
from helpers import password_hash, test_config, valid_id_card
from sqlalchemy import create_engine, make_url, text

from portal import calendar, create_app, db_guards
from portal.extensions import db
from portal.models import InsuredPerson, Policy, User

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per run, migrated from empty to head by Alembic (proves the migrations)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        if url.startswith("postgresql"):
            downgrade(revision="base")  # and back: both directions must work on PostgreSQL too
            upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def _reset_database(database_url):
    """Puts the database back to migrated-and-empty before each test, whatever the test wrote and whatever
    the schema forbids (append-only tables refuse DELETE): SQLite restores a snapshot of the empty schema
    (the backup API copies its pages in one call), PostgreSQL truncates every table with its triggers off.
    Cheaper than a DELETE per table, and the calendar is not rebuilt (portal.calendar keeps the library-only
    table), so a test pays for what it writes."""
    tables = [t.name for t in db.metadata.sorted_tables]
    if database_url.startswith("sqlite"):
        # the snapshot has the schema and no rows (rows a migration seeds are gone, as on PostgreSQL)
        engine = create_engine(database_url)
        with engine.begin() as connection, db_guards.suspended(connection):
            for table in reversed(tables):
                connection.execute(text(f'DELETE FROM "{table}"'))
        engine.dispose()
        path = make_url(database_url).database
        snapshot = sqlite3.connect(":memory:")
        with closing(sqlite3.connect(path)) as migrated:
            migrated.backup(snapshot)

        def reset():
            with closing(sqlite3.connect(path, timeout=30)) as target:
                snapshot.backup(target)

        yield reset
        snapshot.close()
        return
    engine = create_engine(database_url)
    listed = ", ".join(f'"{name}"' for name in tables)

    def reset():
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # the append-only triggers
            connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))

    yield reset
    engine.dispose()


@pytest.fixture
def app(database_url, _reset_database, tmp_path):
    """A fresh app over a freshly migrated database; the calendar back to library data."""
    _reset_database()  # before create_app: it loads the calendar's imported days from the database
    calendar.reset()
    app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": database_url,
                      "UPLOAD_DIR": str(tmp_path / "uploads")})
    # requests reuse the test's app context: forget the cached user so each request loads its own
    request_started.connect(_forget_login_user, app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    calendar.reset()


def _forget_login_user(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def product(app):
    """The demo product with its six service lines."""
    from portal.domain.demo import ensure_product

    product = ensure_product()
    db.session.commit()
    return product


@pytest.fixture
def make_user(app):
    def make(role="coordinator", *, username=None, insured=None, password="password123", **kw):
        user = User(username=username or f"{role}{next(_ids)}", password_hash=password_hash(password), role=role,
                    display_name=kw.pop("display_name", f"测试{role}"), insured_id=getattr(insured, "id", None),
                    **kw)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_policy(product):
    """A policy with one insured person; returns the InsuredPerson (policy via .policy)."""

    def make(*, name="王测试", id_number=None, start=date(2026, 1, 1), end=date(2026, 12, 31),
             waiting_days=90, policy_no=None, status="active", consent=True):
        n = next(_ids)
        policy = Policy(policy_no=policy_no or f"TP{n:08d}", product_id=product.id, holder_name=name,
                        start_date=start, end_date=end, waiting_days=waiting_days, status=status)
        db.session.add(policy)
        db.session.flush()
        person = InsuredPerson(policy_id=policy.id, name=name, id_type="id_card",
                               id_number=id_number or valid_id_card(n))
        db.session.add(person)
        db.session.flush()
        if consent:  # most tests are about something else: the person has consented (SPEC §7) unless asked
            grant_consent(person)
        db.session.commit()
        return person

    return make


def grant_consent(person) -> None:
    """A consent to the privacy notice in effect, as if given on the hotline earlier."""
    from portal.domain.consent import current_notice
    from portal.models import ConsentRecord

    db.session.add(ConsentRecord(insured_id=person.id, purpose="processing", action="given",
                                 notice_id=current_notice("privacy").id, channel="hotline",
                                 actor_role="system", actor_name="测试"))
    db.session.flush()


@pytest.fixture
def login_as(app, make_user):
    """login_as("supervisor") or login_as(user) → a test client with that session."""

    def login(who, client=None):
        user = make_user(who) if isinstance(who, str) else who
        client = client or app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_login_at"] = session["_seen"] = time.time()
            session["_staff"] = user.role != "insured"
            session["_fresh"] = True
        client.user = user
        return client

    return login
