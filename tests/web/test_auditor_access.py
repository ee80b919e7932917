"""The auditor portal is read-only by construction: GET routes only, every write refused with 403 and logged."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog
from portal.web.access import AUDITOR_WRITES

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def auditor_urls(app, *, with_endpoint: bool = False, readable: bool = True) -> list:
    """Every auditor URL (only those answering GET when `readable`), with 1 for each path argument (and its
    endpoint, when asked)."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("auditor.")
             and (not readable or "GET" in rule.methods)]
    urls = [re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule) for rule in rules]
    return list(zip(urls, [r.endpoint for r in rules], strict=True)) if with_endpoint else urls


def refused_writes() -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "auditor.write_refused")
                                   .order_by(AuditLog.id)))


def test_auditor_blueprint_registers_read_only_methods_but_the_read_mark(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("auditor.")]
    assert len(rules) >= 11
    for rule in rules:
        if rule.endpoint == "auditor.inbox_read":  # marking a report sent to 史带 as 已阅 (SPEC §6)
            assert rule.methods == {"POST", "OPTIONS"}, rule
            continue
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    assert {("auth.logout", "POST"), ("auditor.inbox_read", "POST")} == AUDITOR_WRITES


def test_every_auditor_route_refuses_every_write_with_403_and_logs_it(app, login_as):
    client = login_as("auditor")
    tried = {(m, url) for url, endpoint in auditor_urls(app, with_endpoint=True, readable=False) for m in WRITE_METHODS
             if (endpoint, m) not in AUDITOR_WRITES}
    for method, url in sorted(tried):
        response = client.open(url, method=method, data={"anything": "1"})
        assert response.status_code == 403, (method, url)
        assert "您没有权限执行此操作" in response.get_data(as_text=True)
    entries = refused_writes()
    assert len(entries) == len(tried)
    assert {(e.detail["method"], e.detail["path"]) for e in entries} == tried
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
