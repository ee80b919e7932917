"""The page for "the database cannot answer" (issue 18): 503, in Chinese, needing nothing but this module.

A database that is down, restarting or unreachable, a connection pool that is exhausted, or a lock not
granted within DATABASE_LOCK_TIMEOUT all end here instead of in gunicorn's bare "Internal Server Error".
The page is one constant string with its style inline (allowed by its own CSP hash): no template, no
session, no current_user, no static file — nothing that could need the database again. The app recovers
by itself: the pool pings a connection before use, so the first request after the database is back works.
"""

import base64
import hashlib
import logging
import sys

from flask import request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.wrappers import Response

from ..domain.product_data import HOTLINE, HOTLINE_TEL

log = logging.getLogger(__name__)

MESSAGE = f"系统暂时无法访问，请稍后再试；紧急情况请致电 {HOTLINE}"
#: the errors that mean "the database cannot answer now" (not a bug in a query)
OUTAGE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER = "30"

_STYLE = (
    "body{margin:0;font-family:system-ui,-apple-system,\"PingFang SC\",\"Noto Sans CJK SC\",sans-serif;"
    "background:#f5f7fa;color:#1f2933}"
    "main{max-width:32rem;margin:15vh auto;padding:1.5rem;background:#fff;border-radius:12px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.08)}"
    "h1{font-size:1.25rem;line-height:1.6;margin:0 0 1rem}"
    "p{margin:.5rem 0;line-height:1.6}"
    "a{color:#0b5cad;font-weight:600;display:inline-block;min-height:44px;line-height:44px}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>系统暂时无法访问 · 重疾就医保服务</title>
<style>{_STYLE}</style>
</head>
<body>
<main role="alert">
<h1>{MESSAGE}</h1>
<p>您刚才提交的内容如未显示成功，请稍后重新提交（不会重复办理）。</p>
<p>服务热线 <a href="{HOTLINE_TEL}">{HOTLINE}</a>（英仕健康）</p>
</main>
</body>
</html>
""".encode()

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Retry-After": RETRY_AFTER,
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def is_outage(error: BaseException | None) -> bool:
    """True for an error (or the error behind it) that means the database cannot answer now."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, OUTAGE_ERRORS):
            return True
        error = getattr(error, "original_exception", None) or error.__cause__
        seen += 1
    return False


def outage_response(status: int = 503) -> Response:
    """The self-contained page; an htmx request is told to reload, so the whole page shows the message."""
    response = Response(PAGE, status=status, headers=HEADERS)
    try:
        if request.headers.get("HX-Request") == "true":
            response.headers["HX-Refresh"] = "true"
    except RuntimeError:  # outside a request context (the WSGI guard)
        pass
    return response


def handle_outage(error):
    """Flask error handler for OUTAGE_ERRORS: give the connection back, answer 503."""
    log.warning("database unavailable: %s: %s", type(error).__name__, str(error).splitlines()[0] if str(error) else "")
    _rollback_quietly()
    return outage_response()


def _rollback_quietly() -> None:
    from ..extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing to give back
        log.debug("rollback after an outage failed", exc_info=True)


class OutageGuard:
    """Outermost WSGI layer: a database error that escapes Flask's handlers (a middleware, a teardown) still
    gets the 503 page, never gunicorn's bare 500."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        except OUTAGE_ERRORS:
            log.warning("database unavailable (outside the request handlers)", exc_info=True)
            hx = environ.get("HTTP_HX_REQUEST") == "true"
            headers = [*HEADERS.items(), *([("HX-Refresh", "true")] if hx else [])]
            start_response("503 Service Unavailable", headers, sys.exc_info())
            return [PAGE]
