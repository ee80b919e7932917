"""Every supervisor screen refuses coordinators and auditors (403) and sends visitors to the login."""

import pytest

ARGS = {"kind": "hospital", "item_id": 1, "user_id": 1, "case_id": 1, "request_id": 1}


def _supervisor_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every route of the supervisor blueprint."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("supervisor."):
                continue
            url = rule.build({k: v for k, v in ARGS.items() if k in rule.arguments})[1]
            routes.extend((method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return routes


def test_the_supervisor_screens_are_found(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("supervisor.")}
    assert {"supervisor.case_assign", "supervisor.assignment_list", "supervisor.directory_list",
            "supervisor.directory_import", "supervisor.staff_list", "supervisor.policy_import",
            "supervisor.holiday_list", "supervisor.holiday_import", "supervisor.holiday_add",
            "supervisor.provisional_list"} <= endpoints


def test_the_supervisor_screens_live_under_staff_admin_and_keep_their_urls(app):
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("supervisor.")}
    assert rules.pop("supervisor.case_assign") == "/staff/cases/<int:case_id>/assign"
    assert all(url.startswith("/staff/admin/") for url in rules.values()), rules
    assert all(app.view_functions[e].__module__.startswith("portal.blueprints.supervisor.") for e in rules)


@pytest.mark.parametrize("role", ["coordinator", "auditor", "insured"])
def test_anyone_but_a_supervisor_is_refused(app, login_as, role):
    client = login_as(role)
    refused = {(method, url): client.open(url, method=method).status_code for method, url in _supervisor_routes(app)}
    assert set(refused.values()) == {403}, refused


def test_visitors_are_sent_to_the_login(app, client):
    for method, url in _supervisor_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)


def test_a_supervisor_reaches_every_list_page(login_as, product):
    client = login_as("supervisor")
    for url in ("/staff/admin/assignments", "/staff/admin/directory/hospital", "/staff/admin/users",
                "/staff/admin/policies/import", "/staff/admin/holidays", "/staff/admin/holidays/provisional",
                "/staff/admin/deliveries"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'aria-current="page"' in response.get_data(as_text=True)


def test_the_nav_fragment_renders_nothing_for_a_coordinator(app, login_as):
    from flask import render_template
    from flask_login import login_user

    coordinator = login_as("coordinator").user
    with app.test_request_context("/staff/"):
        login_user(coordinator)
        assert render_template("coordinator/admin/_nav.html").strip() == ""
