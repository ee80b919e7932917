"""Login and logout: one answer for every failure, the role's home, no open redirect."""

from portal.extensions import db
from portal.models import User

GOOD = "Kx7-long-enough"


def test_login_succeeds_and_goes_to_the_role_home(client, make_user):
    make_user("coordinator", username="coord", password=GOOD)
    response = client.post("/login", data={"username": "coord", "password": GOOD})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/")
    assert db.session.scalar(db.select(User.last_login_at).where(User.username == "coord")) is not None


def test_login_never_redirects_off_site(client, make_user):
    make_user("coordinator", username="coord", password=GOOD)
    response = client.post("/login?next=//evil.example/x", data={"username": "coord", "password": GOOD})
    assert response.headers["Location"].endswith("/staff/")


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    make_user("coordinator", username="coord", password=GOOD)
    wrong = client.post("/login", data={"username": "coord", "password": "x"})
    unknown = client.post("/login", data={"username": "nobody-here", "password": "x"})
    assert wrong.status_code == unknown.status_code == 422
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    strip = lambda r: r.get_data(as_text=True).replace("coord", "").replace("nobody-here", "")  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_many_failures_never_lock_the_right_password_out_from_another_address(app, client, make_user):
    make_user("coordinator", username="coord", password=GOOD)
    for _ in range(8):
        client.post("/login", data={"username": "coord", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    response = app.test_client().post("/login", data={"username": "coord", "password": GOOD},
                                      environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 303


def test_deactivated_staff_cannot_log_in(client, make_user):
    make_user("coordinator", username="gone", password=GOOD, active=False)
    response = client.post("/login", data={"username": "gone", "password": GOOD})
    assert response.status_code == 422
    assert "已停用" in response.get_data(as_text=True)


def test_logout_is_a_post(login_as):
    client = login_as("auditor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 303
    assert client.get("/audit/").status_code == 302
