"""The auditor portal is read-only by construction: GET routes only — plus the receipt check, a POST that writes
nothing but its own audit-log row (issue 16) — every other write refused with 403 and logged."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog
from portal.web.access import AUDITOR_POSTS, AUDITOR_WRITES

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def auditor_urls(app) -> list[str]:
    """Every auditor GET URL, with 1 for each path argument."""
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("auditor.") and "GET" in rule.methods]
    return [re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule) for rule in rules]


def refused_writes() -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "auditor.write_refused")
                                   .order_by(AuditLog.id)))


def test_auditor_blueprint_registers_read_only_methods(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("auditor.")]
    assert len(rules) >= 11
    for rule in rules:
        if rule.endpoint in AUDITOR_POSTS:
            assert rule.methods <= {"POST", "OPTIONS"}, rule
        else:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    assert {r.endpoint for r in rules if "POST" in r.methods} == {"auditor.receipt_verify", "auditor.inbox_read"}
    # the one write: marking a report sent to 史带 as 已阅 (SPEC §6)
    assert {"auditor.inbox_read"} == AUDITOR_WRITES


def test_every_auditor_route_refuses_every_write_with_403_and_logs_it(app, login_as):
    client = login_as("auditor")
    urls = auditor_urls(app)
    for url in urls:
        for method in WRITE_METHODS:
            response = client.open(url, method=method, data={"anything": "1"})
            assert response.status_code == 403, (method, url)
            assert "您没有权限执行此操作" in response.get_data(as_text=True)
    entries = refused_writes()
    assert len(entries) == len(urls) * len(WRITE_METHODS)
    assert {(e.detail["method"], e.detail["path"]) for e in entries} == {
        (m, u) for u in urls for m in WRITE_METHODS}
    assert {e.actor_id for e in entries} == {client.user.id}
    assert {e.actor_role for e in entries} == {"auditor"}


@pytest.mark.parametrize("path", ["/staff/", "/me/", "/no-such-page", "/healthz"])
def test_auditor_writes_elsewhere_are_refused_and_logged_too(login_as, path):
    client = login_as("auditor")
    assert client.post(path).status_code == 403
    assert [e.detail["path"] for e in refused_writes()] == [path]


def test_auditor_can_still_sign_out(login_as):
    client = login_as("auditor")
    response = client.post("/logout")
    assert response.status_code in (302, 303)
    assert refused_writes() == []


@pytest.mark.parametrize("role", ["coordinator", "supervisor"])
def test_staff_cannot_open_the_auditor_portal(app, login_as, role):
    client = login_as(role)
    for url in auditor_urls(app):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_login(app, client):
    for url in auditor_urls(app):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_insured_cannot_open_the_auditor_portal(app, login_as, make_user, make_policy):
    client = login_as(make_user("insured", insured=make_policy()))
    assert client.get("/audit/cases").status_code == 403
