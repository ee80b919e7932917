"""Sessions the server can end, in every process (issue 13 item 3)."""

import time

import helpers
import pytest
from security_world import PASSWORD

from portal import create_app
from portal.domain import accounts
from portal.extensions import db
from portal.models import User
from portal.web import sessions


@pytest.fixture
def other_app(app, database_url, tmp_path):
    """A second app instance (another worker or server) on the same database."""
    other = create_app({**helpers.test_config(), "SQLALCHEMY_DATABASE_URI": database_url,
                        "UPLOAD_DIR": str(tmp_path / "uploads2")})
    yield other
    with other.app_context():
        db.engine.dispose()  # else psycopg warns about connections left open (an error under -W error)


def _login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_saved_cookie_is_refused_after_logout_in_another_instance(app, other_app, world):
    client = _login(app, "sec_c1")
    saved = _cookie(client)
    assert _replay(other_app, saved).get("/staff/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert _replay(other_app, saved).get("/staff/").status_code == 302  # to login
    assert _replay(app, saved).get(f"/staff/cases/{world.case_a.id}").status_code == 302


def test_a_password_reset_ends_the_users_sessions_everywhere(app, other_app, world, login_as):
    saved = _cookie(_login(other_app, "sec_c3"))
    supervisor = login_as(world.supervisor)
    response = supervisor.post(f"/staff/admin/users/{world.c3.id}/password",
                               data={"password": "New-pass-for-c3!", "confirm": "New-pass-for-c3!"})
    assert response.status_code == 303
    assert _replay(other_app, saved).get("/staff/").status_code == 302
    assert _replay(app, saved).get("/staff/").status_code == 302


def test_deactivation_ends_the_users_sessions_everywhere(app, other_app, world, login_as):
    saved = _cookie(_login(other_app, "sec_c3"))
    assert login_as(world.supervisor).post(f"/staff/admin/users/{world.c3.id}/deactivate").status_code == 303
    assert _replay(other_app, saved).get("/staff/").status_code == 302


def test_a_role_change_ends_the_users_sessions(app, world):
    saved = _cookie(_login(app, "sec_c3"))
    user = db.session.get(User, world.c3.id)
    user.role = "supervisor"
    db.session.commit()
    assert _replay(app, saved).get("/staff/").status_code == 302


def test_password_change_by_the_domain_bumps_the_generation(app, world):
    user = db.session.get(User, world.c3.id)
    before = user.session_generation
    accounts.reset_password(user, "Another-pass-99", actor=world.supervisor)
    db.session.commit()
    assert user.session_generation == before + 1


def test_login_starts_a_fresh_session(app, world):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by-an-attacker"
    client.post("/login", data={"username": "sec_c1", "password": PASSWORD})
    with client.session_transaction() as s:
        assert "planted" not in s and s["_user_id"] == world.c1.get_id()


def test_an_idle_staff_session_ends(app, world):
    client = _login(app, "sec_c1")
    with client.session_transaction() as s:
        s[sessions.SEEN] = time.time() - app.config["STAFF_IDLE_MINUTES"] * 60 - 5
    assert client.get("/staff/").status_code == 302


def test_an_idle_insured_session_lasts_longer(app, world):
    client = _login(app, "sec_insured_a")
    with client.session_transaction() as s:
        s[sessions.SEEN] = time.time() - app.config["STAFF_IDLE_MINUTES"] * 60 - 5
    assert client.get("/me/").status_code == 200


def test_every_session_ends_after_the_absolute_lifetime(app, world):
    client = _login(app, "sec_insured_a")
    with client.session_transaction() as s:
        s[sessions.LOGIN_AT] = time.time() - app.config["SESSION_ABSOLUTE_HOURS"] * 3600 - 5
    assert client.get("/me/").status_code == 302
    assert app.permanent_session_lifetime.total_seconds() <= 24 * 3600


def test_a_session_without_a_generation_is_refused(app, world):
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = str(world.c1.id)  # an old-style cookie
        s[sessions.LOGIN_AT] = s[sessions.SEEN] = time.time()
    assert client.get("/staff/").status_code == 302
