"""Every supervisor screen refuses coordinators and auditors (403) and sends visitors to the login."""

import pytest

ARGS = {"kind": "hospital", "item_id": 1, "user_id": 1, "case_id": 1}


def _supervisor_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every route whose view lives in the admin modules."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not app.view_functions[rule.endpoint].__module__.startswith("portal.blueprints.coordinator.admin"):
                continue
            url = rule.build({k: v for k, v in ARGS.items() if k in rule.arguments})[1]
            routes.extend((method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return routes


def test_the_supervisor_screens_are_found(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if app.view_functions[rule.endpoint].__module__.startswith("portal.blueprints.coordinator.admin")}
    assert {"coordinator.case_assign", "coordinator.assignment_list", "coordinator.directory_list",
            "coordinator.directory_import", "coordinator.staff_list", "coordinator.policy_import",
            "coordinator.holiday_list", "coordinator.holiday_import", "coordinator.holiday_add",
            "coordinator.provisional_list"} <= endpoints


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
                "/staff/admin/policies/import", "/staff/admin/holidays", "/staff/admin/holidays/provisional"):
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
