"""Web plumbing shared by every blueprint: headers, errors, filters, health check."""

from flask import Flask, current_app, jsonify, render_template
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from ..domain.product_data import HOTLINE
from ..extensions import db, login_manager
from . import filters
from .access import unauthorized
from .assets import init_assets
from .body_deadline import BodyDeadline
from .outage import OUTAGE_ERRORS, OutageGuard, handle_outage, is_outage, outage_response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def init_web(app: Flask) -> None:
    """Register headers, error pages, the user loader, template filters and /healthz."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(unauthorized)
    filters.register(app)

    app.before_request(_fresh_calendar)
    init_assets(app)
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 408, 413, 422, 429, 500):
        app.register_error_handler(code, _error_page)
    for error in OUTAGE_ERRORS:  # the database is down or a lock was not granted in time: 503 (issue 18)
        app.register_error_handler(error, handle_outage)
    app.add_url_rule("/healthz", "healthz", healthz)
    if proxies := app.config["TRUSTED_PROXIES"]:  # the client's address and scheme as the proxy saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.wsgi_app = BodyDeadline(app.wsgi_app, total=app.config["BODY_TIMEOUT"], idle=app.config["BODY_IDLE_TIMEOUT"])
    app.wsgi_app = OutageGuard(app.wsgi_app)  # outermost: even a middleware's database error gets the page


def _fresh_calendar():
    from ..domain.holidays import refresh_if_changed

    refresh_if_changed()


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
    if current_app.config.get("HSTS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        # pages carry personal data: never keep them in shared caches
        response.headers.setdefault("Cache-Control", "no-store")
    return response


ERROR_TEXT = {
    400: "请求有误，请返回重试。",
    403: "您没有权限执行此操作。",
    404: "没有找到您要的页面或记录。",
    405: "不支持此操作。",
    408: "上传超时：网络太慢或已中断，请在网络较好时重新提交。",
    413: "上传的文件太大。",
    422: "提交的内容有误，请检查后重试。",
    429: f"尝试次数过多，请稍后再试。如需帮助请致电 {HOTLINE}。",
    500: f"系统出现问题，请稍后重试；如持续出现请致电 {HOTLINE}。",
}


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if code == 500 and is_outage(error):
        return handle_outage(error)
    try:
        if code == 500:
            db.session.rollback()
        return render_template("error.html", code=code, message=ERROR_TEXT.get(code, ERROR_TEXT[500])), code
    except Exception as again:  # the error page itself failed (the database went away meanwhile)
        if is_outage(again):
            return handle_outage(again)
        return outage_response(500)


def healthz():
    """Liveness for load balancers and outside checks: 200 when the database answers (SPEC §8)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"
        db.session.rollback()
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
