"""The foundation: factory, config, health, role isolation, schema = models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.extensions import db


def test_healthz_reports_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_login_page_is_chinese_and_phone_ready(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport"' in html
    assert "登录" in html


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_migrated_schema_equals_models(app):
    """Alembic head (built by the session fixture) has exactly the tables, columns and indexes of the models."""
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
    assert diff == []


@pytest.mark.parametrize("path", ["/me/", "/staff/", "/audit/"])
def test_anonymous_users_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("insured", "/me/", 200), ("insured", "/staff/", 403), ("insured", "/audit/", 403),
        ("coordinator", "/me/", 403), ("coordinator", "/staff/", 200), ("coordinator", "/audit/", 403),
        ("supervisor", "/staff/", 200), ("supervisor", "/me/", 403), ("supervisor", "/audit/", 403),
        ("auditor", "/audit/", 200), ("auditor", "/staff/", 403), ("auditor", "/me/", 403),
    ],
)
def test_each_blueprint_refuses_other_roles(login_as, make_policy, make_user, role, path, status):
    who = make_user("insured", insured=make_policy()) if role == "insured" else role
    assert login_as(who).get(path).status_code == status


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_an_auditor_post_without_csrf_token_is_refused_and_logged(app, login_as):
    from sqlalchemy import select

    from portal.models import AuditLog

    app.config["WTF_CSRF_ENABLED"] = True
    auditor = login_as("auditor")
    response = auditor.post("/staff/", data={"anything": "1"})
    assert response.status_code == 403
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.actor_id == auditor.user.id)) == (
        "auditor.write_refused")
