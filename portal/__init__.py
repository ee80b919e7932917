"""重疾就医保 service portal: the application factory."""

import os
import secrets
from pathlib import Path

from flask import Flask

from .config import INSTANCE, Config
from .extensions import compress, csrf, db, login_manager, migrate

#: a signing key shorter than this can be guessed offline from one session cookie
MIN_SECRET_BYTES = 32


def create_app(config: dict | type | None = None) -> Flask:
    """Build the app: config from the environment, then `config` overrides (a dict or class)."""
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)
    _ensure_secret_key(app)
    _engine_options(app)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    from .web.access import refuse_auditor_writes_anywhere

    # before CSRFProtect's own hook: an auditor's tokenless POST is refused *and logged*, not just a 400
    app.before_request(refuse_auditor_writes_anywhere)
    csrf.init_app(app)
    from .web.ratelimit import limiter

    limiter.init_app(app)
    login_manager.init_app(app)
    from .web.sessions import init_sessions

    init_sessions(app)
    # first of all hooks: an expired session is gone before any gate looks at current_user
    app.before_request_funcs[None].insert(0, app.before_request_funcs[None].pop())
    compress.init_app(app)  # pages and fragments; static files come precompressed (web/assets.py)

    from . import models  # noqa: F401  (register every table with the metadata)
    from .blueprints import register_blueprints
    from .cli import register_cli
    from .domain import (
        live_clocks,  # noqa: F401  (the dashboard's live clock counts follow every committed clock change,
        queue_counts,  # noqa: F401  the queue's counters every committed case change,
        rollups,  # noqa: F401  and the reports' figure rollups both)
    )
    from .web import init_web
    from .web.params import init_params

    init_params(app)  # the bounded <int:> converter must be in place before any route is added
    register_blueprints(app)
    register_cli(app)
    init_web(app)
    _load_calendar(app)
    _maybe_start_scheduler(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Production must set a SECRET_KEY of at least 32 bytes; development keeps a generated one in instance/."""
    production = "production" in (os.environ.get("APP_ENV"), app.config.get("APP_ENV"))
    key = app.config.get("SECRET_KEY")
    if production and len(key.encode() if isinstance(key, str) else key or b"") < MIN_SECRET_BYTES:
        raise RuntimeError(f"SECRET_KEY must be set to at least {MIN_SECRET_BYTES} random bytes in production "
                           "(APP_ENV=production); e.g. python -c 'import secrets; print(secrets.token_hex(32))'")
    if key:
        return
    key_file = Path(app.instance_path) / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _engine_options(app: Flask) -> None:
    """Wait for a database lock at most DATABASE_LOCK_TIMEOUT, well under gunicorn's worker timeout, then fail
    (the 503 page) instead of being killed mid-request. SQLite: its busy timeout (several workers, scheduler,
    tests with threads); PostgreSQL: lock_timeout, and a bounded connect when the server is unreachable."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    uri, wait = app.config["SQLALCHEMY_DATABASE_URI"], float(app.config["DATABASE_LOCK_TIMEOUT"])
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": wait, **options.get("connect_args", {})}
    elif uri.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5, "options": f"-c lock_timeout={int(wait * 1000)}",
                                   **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _load_calendar(app: Flask) -> None:
    """Feed imported holiday notices to the calendar once the schema exists."""
    from .domain.holidays import reload_calendar

    with app.app_context():
        reload_calendar(missing_ok=True)


def _maybe_start_scheduler(app: Flask) -> None:
    """Development convenience: `make run` sets SCHEDULER_IN_PROCESS; gunicorn never does."""
    if app.config["SCHEDULER_IN_PROCESS"] and not app.config["TESTING"]:
        from .scheduler import start_background

        start_background(app)
