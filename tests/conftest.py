"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
clients logged in as any role, and factories for the rows most tests need."""

import itertools
import os
from datetime import date

import pytest
from flask import g, request_started
from helpers import test_config, valid_id_card
from sqlalchemy import text

from portal import calendar, create_app
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


def _truncate() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh app over an emptied database; the calendar back to library data."""
    calendar.reset()
    app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": database_url,
                      "UPLOAD_DIR": str(tmp_path / "uploads")})
    # requests reuse the test's app context: forget the cached user so each request loads its own
    request_started.connect(_forget_login_user, app)
    with app.app_context():
        _truncate()
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
        from portal.domain.accounts import hash_password

        user = User(username=username or f"{role}{next(_ids)}", password_hash=hash_password(password), role=role,
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
             waiting_days=90, policy_no=None, status="active"):
        n = next(_ids)
        policy = Policy(policy_no=policy_no or f"TP{n:08d}", product_id=product.id, holder_name=name,
                        start_date=start, end_date=end, waiting_days=waiting_days, status=status)
        db.session.add(policy)
        db.session.flush()
        person = InsuredPerson(policy_id=policy.id, name=name, id_type="id_card",
                               id_number=id_number or valid_id_card(n))
        db.session.add(person)
        db.session.commit()
        return person

    return make


@pytest.fixture
def login_as(app, make_user):
    """login_as("supervisor") or login_as(user) → a test client with that session."""

    def login(who, client=None):
        user = make_user(who) if isinstance(who, str) else who
        client = client or app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        client.user = user
        return client

    return login
