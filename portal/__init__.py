"""重疾就医保 service portal: the application factory."""

import os
import secrets
from pathlib import Path

from flask import Flask

from .config import INSTANCE, Config
from .extensions import csrf, db, htmx, login_manager, migrate


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
    htmx.init_app(app)
    login_manager.init_app(app)

    from . import models  # noqa: F401  (register every table with the metadata)
    from .blueprints import register_blueprints
    from .cli import register_cli
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
    """Production must set SECRET_KEY; development keeps a generated one in instance/."""
    if app.config.get("SECRET_KEY"):
        return
    if os.environ.get("APP_ENV") == "production":
        raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production)")
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
