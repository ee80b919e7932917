"""The page cache (issue 9): a repeated view is served without a render, and never shows data older than the
last committed write — made by this process, another process, the ORM or a bulk UPDATE."""

import threading

import helpers
import pytest
from flask import template_rendered
from sqlalchemy import select, update

from portal import create_app
from portal.extensions import db
from portal.models import Case, User
from portal.transaction import write_generation
from portal.web import page_cache


@pytest.fixture
def renders(app):
    """Names of the templates rendered since the fixture started (a cache hit renders none)."""
    seen = []

    def record(sender, template, context, **extra):
        seen.append(template.name)

    template_rendered.connect(record, app)
    yield seen
    template_rendered.disconnect(record, app)


def get(client, url, **kw):
    return client.get(url, **kw)


def signed_in(client):
    """The session a browser has after signing in through the form: Flask-Login's identifier and a CSRF
    token (a request that has to add either changes the session, and such a page is never kept)."""
    client.get("/healthz")
    with client.session_transaction() as session:
        session["_fresh"] = False  # what Flask-Login writes once for a session it did not sign in itself
        session.setdefault("csrf_token", "0" * 40)
    return client


def test_a_second_view_of_the_insured_home_is_served_without_rendering(insured, client_of, open_case, renders):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    first = get(client, "/me/")
    renders.clear()
    second = get(client, "/me/")
    assert renders == []
    assert second.status_code == 200 and second.data == first.data and case.ref in second.get_data(as_text=True)
    # the stored answer keeps every header the rendered one had (security headers, no-store, Vary)
    for name in ("Content-Security-Policy", "Cache-Control", "X-Frame-Options", "Vary"):
        assert second.headers[name] == first.headers[name]


def test_a_coordinators_action_shows_on_the_insureds_next_view(insured, client_of, open_case, act):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    assert "已提交" in get(client, "/me/").get_data(as_text=True)
    act(case, "verify")
    page = get(client, "/me/").get_data(as_text=True)
    assert "已提交" not in page and case.ref in page


def test_a_bulk_update_through_the_session_also_invalidates(insured, client_of, open_case):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    assert "已提交" in get(client, "/me/").get_data(as_text=True)
    db.session.execute(update(Case).where(Case.id == case.id).values(status="cancelled"))
    db.session.commit()
    assert "已取消" in get(client, "/me/").get_data(as_text=True)


def test_a_write_committed_by_another_process_invalidates_this_processs_pages(insured, client_of, open_case, app):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    assert "已提交" in get(client, "/me/").get_data(as_text=True)
    other = create_app({**helpers.test_config(), "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with other.app_context():  # a second gunicorn worker: its own engine, connections and cache
        db.session.execute(update(Case).where(Case.id == case.id).values(status="cancelled"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    db.session.expire_all()  # the test's long-lived session, not the cache, would otherwise hold the old row
    assert "已取消" in get(client, "/me/").get_data(as_text=True)


def test_a_deactivated_account_is_not_served_its_cached_page(insured, client_of):
    client = signed_in(client_of(insured))
    assert get(client, "/me/").status_code == 200
    db.session.execute(update(User).where(User.id == insured.id).values(active=False))
    db.session.commit()
    response = get(client, "/me/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_each_user_gets_their_own_page(insured_user, client_of, open_case):
    mine, theirs = insured_user("甲"), insured_user("乙")
    case = open_case(mine)
    assert case.ref in get(signed_in(client_of(mine)), "/me/").get_data(as_text=True)
    assert case.ref not in get(signed_in(client_of(theirs)), "/me/").get_data(as_text=True)


def test_after_signing_out_the_cached_page_is_gone(insured, client_of):
    client = signed_in(client_of(insured))
    get(client, "/me/")
    assert client.post("/logout").status_code in (302, 303)
    response = get(client, "/me/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_forged_session_cookie_is_not_served(insured, client_of, app):
    client = signed_in(client_of(insured))
    get(client, "/me/")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    client.set_cookie(cookie.key, cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    response = get(client, "/me/")
    assert response.status_code == 302


def test_a_flashed_message_is_shown_once_and_never_kept(insured, client_of, open_case, renders):
    client = signed_in(client_of(insured))
    get(client, "/me/")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "申请已提交")]
    assert "申请已提交" in get(client, "/me/").get_data(as_text=True)
    again = get(client, "/me/").get_data(as_text=True)
    assert "申请已提交" not in again


def test_the_htmx_fragment_and_the_full_page_are_kept_apart(app, product, login_as):
    client = signed_in(login_as("coordinator"))
    full = get(client, "/staff/").get_data(as_text=True)
    fragment = get(client, "/staff/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and "<html" not in fragment
    assert "<html" in get(client, "/staff/").get_data(as_text=True)
    assert "<html" not in get(client, "/staff/", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_page_is_kept_no_longer_than_page_cache_seconds(insured, client_of, renders, monkeypatch):
    client = signed_in(client_of(insured))
    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    get(client, "/me/")
    clock[0] += 59
    renders.clear()
    get(client, "/me/")
    assert renders == []
    clock[0] += 2
    get(client, "/me/")
    assert "insured/home.html" in renders


def test_the_dashboard_page_is_kept_no_longer_than_its_figures(app, product, login_as, renders, monkeypatch):
    app.config["DASHBOARD_CACHE_SECONDS"] = 10
    client = signed_in(login_as("auditor"))
    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr("portal.blueprints.auditor.overview.time.monotonic", lambda: clock[0])
    get(client, "/audit/")
    clock[0] += 11  # the figures are stale now, well before PAGE_CACHE_SECONDS
    renders.clear()
    get(client, "/audit/")
    assert "auditor/dashboard.html" in renders


def test_pages_not_marked_are_never_kept(insured, client_of, open_case, renders):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    get(client, f"/me/cases/{case.id}")
    renders.clear()
    get(client, f"/me/cases/{case.id}")
    assert renders


def test_page_cache_seconds_zero_turns_it_off(database_url, tmp_path):
    app = create_app({**helpers.test_config(), "SQLALCHEMY_DATABASE_URI": database_url, "PAGE_CACHE_SECONDS": 0,
                      "UPLOAD_DIR": str(tmp_path)})
    assert "page_cache" not in app.extensions
    assert not isinstance(app.wsgi_app, page_cache.PageCacheMiddleware)
    with app.app_context():
        db.engine.dispose()


def test_the_generation_moves_on_a_committed_write_only(app, product):
    before = write_generation(db.engine)
    db.session.scalars(select(User)).all()
    db.session.commit()
    assert write_generation(db.engine) == before  # reading is not writing
    db.session.add(User(username="x1", password_hash="x", role="auditor", display_name="甲"))
    db.session.rollback()
    assert write_generation(db.engine) == before  # nothing committed
    db.session.add(User(username="x2", password_hash="x", role="auditor", display_name="乙"))
    db.session.commit()
    assert write_generation(db.engine) == before + 1
    with db.session.begin_nested():
        db.session.add(User(username="x3", password_hash="x", role="auditor", display_name="丙"))
    assert write_generation(db.engine) == before + 1  # a savepoint is not the commit
    db.session.commit()
    assert write_generation(db.engine) == before + 2


def test_the_cache_stays_within_its_size(insured, client_of, app):
    app.extensions["page_cache"].size = 2
    client = signed_in(client_of(insured))
    for page in (1, 2, 3):
        get(client, f"/me/?page={page}")
    assert len(app.extensions["page_cache"].entries) == 2


def test_the_counter_is_read_before_the_page_so_a_write_during_the_render_is_never_hidden(
        insured, client_of, open_case, app, renders):
    case = open_case(insured)
    client = signed_in(client_of(insured))
    other = create_app({**helpers.test_config(), "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})

    def commit_elsewhere_once(sender, template, context, **extra):
        if template.name == "insured/home.html" and len(renders) == 1:
            with other.app_context():  # another worker commits while this page is being rendered
                db.session.execute(update(Case).where(Case.id == case.id).values(status="cancelled"))
                db.session.commit()
                db.session.remove()
                db.engine.dispose()

    template_rendered.connect(commit_elsewhere_once, app)
    try:
        assert "已提交" in get(client, "/me/").get_data(as_text=True)  # rendered before it saw the write
    finally:
        template_rendered.disconnect(commit_elsewhere_once, app)
    db.session.expire_all()
    assert "已取消" in get(client, "/me/").get_data(as_text=True)


def test_a_response_that_sets_a_cookie_is_never_replayed(insured, client_of, app, renders):
    app.after_request(lambda response: (response.set_cookie("seen", "1"), response)[1])
    client = signed_in(client_of(insured))
    get(client, "/me/")
    renders.clear()
    get(client, "/me/")
    assert renders == ["insured/home.html"]


def test_refusals_are_never_kept_and_a_changed_role_is_refused_at_once(app, product, login_as, renders):
    coordinator = signed_in(login_as("coordinator"))
    assert get(coordinator, "/me/").status_code == 403
    assert get(coordinator, "/me/").status_code == 403 and renders.count("error.html") == 2
    assert get(coordinator, "/staff/").status_code == 200
    db.session.execute(update(User).where(User.id == coordinator.user.id).values(role="auditor"))
    db.session.commit()
    assert get(coordinator, "/staff/").status_code == 403


def test_the_cache_is_safe_across_threads():
    cache, errors = page_cache.PageCache(2), []

    def hammer(n):
        try:
            for i in range(2000):
                key = (n + i) % 5
                cache.put(key, page_cache.Entry(i % 2, 1e9, [], b""))
                cache.get(key, (i + 1) % 2, 0.0)
        except Exception as error:  # a KeyError from a lost race would land here
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(cache.entries) <= 2
