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
    #: HTML, JSON and CSV answers compressed (brotli, else gzip); files and exports stream as they are
    COMPRESS_MIMETYPES = ["text/html", "application/json", "text/csv"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_STREAMS = False
    #: where the fingerprinted, precompressed copies of portal/static/ are written at start-up
    STATIC_BUILD_DIR = os.environ.get("STATIC_BUILD_DIR", "")
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
