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
    APP_ENV = os.environ.get("APP_ENV", "development")
    #: Strict-Transport-Security on every response (production is served over HTTPS only)
    HSTS = _bool("HSTS", os.environ.get("APP_ENV") == "production")
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
    #: 史带's address for delivered reports and the weekly report (SPEC §6); unset = portal inbox only
    INSURER_REPORT_EMAIL = os.environ.get("INSURER_REPORT_EMAIL")
    #: console | memory | none | module:Class (a provider adapter, e.g. portal.sms_aliyun:AliyunSms)
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
    SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID")
    SMS_ALIYUN_ACCESS_KEY_SECRET = os.environ.get("SMS_ALIYUN_ACCESS_KEY_SECRET")
    SMS_ALIYUN_SIGN_NAME = os.environ.get("SMS_ALIYUN_SIGN_NAME")
    #: purpose=template code pairs, e.g. "registration_code=SMS_1234,case_update=SMS_5678"
    SMS_ALIYUN_TEMPLATES = os.environ.get("SMS_ALIYUN_TEMPLATES", "")

    #: Flask-Limiter; `portaldb://` keeps the counters in the database, shared by every worker (portal.web.ratelimit)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "portaldb://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    #: failed logins per client address, and per address + account
    RATELIMIT_LOGIN_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ADDRESS", "30 per minute;200 per hour")
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute;20 per hour")
    #: registration requests, code entries and resends per client address
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "5 per 10 minutes;20 per day")
    RATELIMIT_CODE = os.environ.get("RATELIMIT_CODE", "10 per 10 minutes;30 per day")
    RATELIMIT_RESEND = os.environ.get("RATELIMIT_RESEND", "3 per 10 minutes;10 per day")

    #: run APScheduler inside the web process (development only; production runs `flask scheduler`)
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS")
    #: a job's lease lives this long and is renewed every third of it while the job runs (issue 18)
    SCHEDULER_LEASE_SECONDS = float(os.environ.get("SCHEDULER_LEASE_SECONDS", 60))
    #: how often the scheduler looks for missed or failed runs, and how long a failed one waits to be retried
    SCHEDULER_CATCH_UP_SECONDS = float(os.environ.get("SCHEDULER_CATCH_UP_SECONDS", 30))
    SCHEDULER_RETRY_SECONDS = float(os.environ.get("SCHEDULER_RETRY_SECONDS", 300))

    #: clocks per committed batch of the deadline sweep (smaller: shorter write locks, more commits)
    SWEEP_BATCH_SIZE = int(os.environ.get("SWEEP_BATCH_SIZE", 1000))

    #: longest a request waits for a database lock (SQLite busy timeout, PostgreSQL lock_timeout) before it
    #: answers 503: well under gunicorn's worker timeout (30 s, gunicorn.conf.py)
    DATABASE_LOCK_TIMEOUT = float(os.environ.get("DATABASE_LOCK_TIMEOUT", 10))
    #: proxies in front that append the client's address to X-Forwarded-For (1 behind deploy/nginx.conf): the
    #: rate limits, the audit log and consent records then see the client, not the proxy (issue 18)
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    #: longest a client may take to send a request body (seconds in all; and between two reads)
    BODY_TIMEOUT = float(os.environ.get("BODY_TIMEOUT", 120))
    BODY_IDLE_TIMEOUT = float(os.environ.get("BODY_IDLE_TIMEOUT", 20))
    #: stored files no document row references are quarantined by the scheduler once this old (issue 18)
    ORPHAN_UPLOAD_MINUTES = int(os.environ.get("ORPHAN_UPLOAD_MINUTES", 60))

    #: sessions (portal.web.sessions): staff are logged out after this long without a request
    STAFF_IDLE_MINUTES = int(os.environ.get("STAFF_IDLE_MINUTES", 30))
    INSURED_IDLE_MINUTES = int(os.environ.get("INSURED_IDLE_MINUTES", 120))
    #: and everyone this long after logging in, however active
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_HOURS * 3600  # the cookie signature's own max age

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
    #: 英仕's Ed25519 checkpoint-signing key: PEM or 64 hex digits, or a file holding it (portal/audit_keys.py);
    #: development generates instance/audit_signing_key.pem when neither is set
    AUDIT_SIGNING_KEY = os.environ.get("AUDIT_SIGNING_KEY")
    AUDIT_SIGNING_KEY_FILE = os.environ.get("AUDIT_SIGNING_KEY_FILE")
    #: HTML, JSON and CSV answers compressed (brotli, else gzip); files and exports stream as they are
    COMPRESS_MIMETYPES = ["text/html", "application/json", "text/csv"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_STREAMS = False
    #: where the fingerprinted, precompressed copies of portal/static/ are written at start-up
    STATIC_BUILD_DIR = os.environ.get("STATIC_BUILD_DIR", "")


class TestConfig(Config):
    """Used by the test suite; the database comes from TEST_DATABASE_URL or a temporary SQLite file."""

    TESTING = True
    APP_ENV = "test"
    HSTS = False
    SECRET_KEY = "test-secret-of-at-least-32-bytes-for-tests"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    MAIL_BACKEND = "memory"
    #: a fixed test key (never used outside the test suite)
    AUDIT_SIGNING_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    SMS_BACKEND = "memory"
