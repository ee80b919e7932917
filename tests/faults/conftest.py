"""The fault suite (issue 18): real gunicorn, scheduler and PostgreSQL processes on loopback.

Marked `faults`; `make test` runs it in both of its runs. The database under test follows the run: SQLite in
the plain run, PostgreSQL when TEST_DATABASE_URL names one (scripts/with-postgres.sh) — but always in a
private cluster of its own (tests stop it and kill processes around it), never the run's shared server.
Each test gets a fresh copy of a template database (migrated by Alembic, demo data loaded) made once.
"""

import itertools
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import PgServer, app_env
from helpers import test_config

_numbers = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def backend() -> str:
    """The database the fault suite runs on in this run."""
    return "postgresql" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def pg_server():
    """A private PostgreSQL cluster for the session (started on first use)."""
    server = PgServer()
    server.start()
    yield server
    server.destroy()


def _build(url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app
    from portal.domain import consent
    from portal.domain.demo import load_demo_data
    from portal.extensions import db
    from portal.models import User

    app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": "/tmp/faults-unused"})
    with app.app_context():
        upgrade()
        load_demo_data()
        for user in db.session.scalars(select(User).where(User.role == "insured")):
            if not consent.has_consent(user.insured):  # the demo people consent on the portal (SPEC §7)
                consent.give(user.insured, actor=user, channel="portal")
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Template databases per backend, built on first use."""
    built = {}

    def template(kind: str, pg: PgServer | None = None) -> str:
        if kind not in built:
            if kind == "sqlite":
                path = tmp_path_factory.mktemp("faults-template") / "template.db"
                _build(f"sqlite:///{path}")
                built[kind] = str(path)
            else:
                pg.execute("CREATE DATABASE fault_template")
                _build(pg.url("fault_template"))
                built[kind] = "fault_template"
        return built[kind]

    return template


@dataclass
class Database:
    """One test's database: its URL, an in-process app over it, and the upload folder its processes share."""

    backend: str
    url: str
    upload_dir: Path
    logs: Path
    path: Path | None = None  #: the SQLite file
    pg: PgServer | None = None
    name: str | None = None  #: the PostgreSQL database
    app: object = field(default=None, repr=False)

    def env(self, **extra) -> dict:
        return app_env(self.url, self.upload_dir, **extra)

    def connect(self):
        """A raw DBAPI connection of the test's own (to hold locks)."""
        if self.backend == "sqlite":
            return sqlite3.connect(self.path, timeout=60, isolation_level=None)
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.pg.port} user=postgres dbname={self.name}",
                               autocommit=True)


def _database(kind: str, tmp_path: Path, templates, pg: PgServer | None) -> Database:
    from portal import create_app

    upload_dir, logs = tmp_path / "uploads", tmp_path / "logs"
    upload_dir.mkdir()
    logs.mkdir()
    template = templates(kind, pg)
    if kind == "sqlite":
        path = tmp_path / "portal.db"
        with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
            source.backup(target)
        database = Database(kind, f"sqlite:///{path}", upload_dir, logs, path=path)
    else:
        name = f"fault_{os.getpid()}_{next(_numbers)}"
        pg.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        database = Database(kind, pg.url(name), upload_dir, logs, pg=pg, name=name)
    database.app = create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": database.url,
                               "UPLOAD_DIR": str(upload_dir)})
    return database


@pytest.fixture
def database(backend, tmp_path, templates, request):
    """A fresh database of this run's backend (PostgreSQL: in the private cluster)."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    database = _database(backend, tmp_path, templates, pg)
    yield database
    _dispose(database)


@pytest.fixture
def pg_database(tmp_path, templates, pg_server):
    """A fresh PostgreSQL database whatever the run's backend (the outage tests stop its server)."""
    database = _database("postgresql", tmp_path, templates, pg_server)
    yield database
    if not (pg_server.data / "postmaster.pid").exists():
        pg_server.start()  # a failed test must not leave the session's server down
    _dispose(database)


def _dispose(database: Database) -> None:
    from portal.extensions import db

    with database.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium for the fault test that needs a browser, launched as tests/browser/conftest.py does."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]}
