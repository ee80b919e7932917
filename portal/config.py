"""Configuration read from the environment (12-factor); see README "Configuration"."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Defaults for development; every value can be overridden by an environment variable."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'portal.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    #: per-file upload limit; the request limit allows several files at once
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 60 * 1024 * 1024))
    PORT = int(os.environ.get("PORT", 5000))
    BUSINESS_TZ = "Asia/Shanghai"

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")  # console | smtp | none
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "重疾就医保服务 <noreply@example.com>")

    #: run APScheduler inside the web process (development only; production runs `flask scheduler`)
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS")
    #: a job's lease lives this long and is renewed every third of it while the job runs (issue 18)
    SCHEDULER_LEASE_SECONDS = float(os.environ.get("SCHEDULER_LEASE_SECONDS", 60))
    #: how often the scheduler looks for missed or failed runs, and how long a failed one waits to be retried
    SCHEDULER_CATCH_UP_SECONDS = float(os.environ.get("SCHEDULER_CATCH_UP_SECONDS", 30))
    SCHEDULER_RETRY_SECONDS = float(os.environ.get("SCHEDULER_RETRY_SECONDS", 300))

    #: longest a request waits for a database lock (SQLite busy timeout, PostgreSQL lock_timeout) before it
    #: answers 503: well under gunicorn's worker timeout (30 s, gunicorn.conf.py)
    DATABASE_LOCK_TIMEOUT = float(os.environ.get("DATABASE_LOCK_TIMEOUT", 10))
    #: longest a client may take to send a request body (seconds in all; and between two reads)
    BODY_TIMEOUT = float(os.environ.get("BODY_TIMEOUT", 120))
    BODY_IDLE_TIMEOUT = float(os.environ.get("BODY_IDLE_TIMEOUT", 20))
    #: stored files no document row references are quarantined by the scheduler once this old (issue 18)
    ORPHAN_UPLOAD_MINUTES = int(os.environ.get("ORPHAN_UPLOAD_MINUTES", 60))

    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Secure cookies need HTTPS: on by default in production (APP_ENV=production)
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", os.environ.get("APP_ENV") == "production")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # a form left open on a phone for hours must still post
    DEBUG = _bool("FLASK_DEBUG")
    TESTING = False
    #: re-read changed templates on every render only while developing (stat calls per template otherwise)
    TEMPLATES_AUTO_RELOAD = DEBUG
    #: the auditor dashboard's figures (grouped sums over every case) are rebuilt at most this often per process
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", 60))


class TestConfig(Config):
    """Used by the test suite; the database comes from TEST_DATABASE_URL or a temporary SQLite file."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    MAIL_BACKEND = "memory"
