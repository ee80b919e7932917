"""Staff accounts: list, create, deactivate/reactivate (never oneself), reset password."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, User

HX = {"HX-Request": "true"}


@pytest.fixture
def boss(login_as):
    return login_as("supervisor")


def _new_staff(client, **overrides):
    form = {"username": "coord9", "display_name": "赵九", "role": "coordinator", "password": "Lg-pass-w0rd-9",
            "confirm": "Lg-pass-w0rd-9", "email": "", "phone": ""}
    return client.post("/staff/admin/users/new", data={**form, **overrides})


def test_staff_list_shows_yingshi_staff_but_neither_auditors_nor_insured_logins(boss, make_user):
    make_user("coordinator", username="c-one")
    make_user("auditor", username="a-one")
    make_user("insured", username="i-one")
    body = boss.get("/staff/admin/users?active=all").get_data(as_text=True)
    assert "<html" in body and "c-one" in body and "a-one" not in body and "i-one" not in body


def test_staff_filter_answers_the_results_fragment_for_htmx(boss, make_user):
    make_user("coordinator", username="c-one")
    make_user("supervisor", username="s-one")
    response = boss.get("/staff/admin/users?role=supervisor", headers=HX)
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="staff-results">')
    assert "s-one" in body and "c-one" not in body


def test_creating_a_coordinator_audits_and_lets_them_log_in(app, boss):
    assert _new_staff(boss).status_code == 303
    user = db.session.scalar(select(User).where(User.username == "coord9"))
    assert (user.role, user.display_name, user.active) == ("coordinator", "赵九", True)
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_id == user.id)) == "user.create"
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "coord9", "password": "Lg-pass-w0rd-9"}).status_code == 303


@pytest.mark.parametrize(("overrides", "message"), [
    ({"password": "short", "confirm": "short"}, "密码至少 10 位。"),
    ({"confirm": "different1"}, "两次输入的密码不一致。"),
    ({"username": "ab"}, "用户名长度为 3–60 个字符。"),
    ({"role": "insured"}, "角色无效。"),
    ({"email": "not-an-email"}, "邮箱格式不正确。"),
])
def test_bad_staff_input_is_refused_at_the_field(boss, overrides, message):
    response = _new_staff(boss, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == overrides.get("username", "coord9"))) is None


def test_a_taken_username_is_refused(boss, make_user):
    make_user("coordinator", username="coord9")
    response = _new_staff(boss)
    assert response.status_code == 422 and "该用户名已被使用。" in response.get_data(as_text=True)


def test_deactivating_with_htmx_swaps_the_row_and_blocks_login(app, boss, make_user):
    user = make_user("coordinator", username="c-one")
    response = boss.post(f"/staff/admin/users/{user.id}/deactivate", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="user-{user.id}" class="inactive"') and "恢复" in body
    assert db.session.get(User, user.id).active is False
    fresh = app.test_client()
    login = fresh.post("/login", data={"username": "c-one", "password": "password123"})
    assert login.status_code == 422


def test_deactivating_without_htmx_redirects_with_a_message(boss, make_user):
    user = make_user("coordinator", username="c-one")
    response = boss.post(f"/staff/admin/users/{user.id}/deactivate",
                         data={"next": "/staff/admin/users?role=coordinator"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/admin/users?role=coordinator")
    assert "已停用 c-one" in boss.get("/staff/admin/users").get_data(as_text=True)


def test_a_supervisor_cannot_deactivate_themselves(boss):
    me = boss.user
    response = boss.post(f"/staff/admin/users/{me.id}/deactivate", headers=HX)
    assert response.status_code == 422
    assert "不能停用您自己的账号" in response.get_data(as_text=True)
    plain = boss.post(f"/staff/admin/users/{me.id}/deactivate")
    assert plain.status_code == 303
    assert db.session.get(User, me.id).active is True
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "user.deactivate")) is None


def test_own_row_offers_no_deactivate_button(boss):
    body = boss.get("/staff/admin/users").get_data(as_text=True)
    assert f'/staff/admin/users/{boss.user.id}/deactivate' not in body and "（本人）" in body


def test_reactivating_restores_the_login(boss, make_user):
    user = make_user("coordinator", username="c-one", active=False)
    response = boss.post(f"/staff/admin/users/{user.id}/reactivate", headers=HX)
    assert response.status_code == 200 and "已恢复 c-one" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).active is True


def test_insured_logins_are_not_managed_here(boss, make_user):
    insured = make_user("insured")
    assert boss.post(f"/staff/admin/users/{insured.id}/deactivate").status_code == 404
    assert boss.get(f"/staff/admin/users/{insured.id}/password").status_code == 404


def test_password_reset_sets_the_new_password_and_lifts_the_lock(app, boss, make_user):
    user = make_user("coordinator", username="c-one",
                     locked_until=datetime.now(UTC) + timedelta(minutes=10), failed_logins=3)
    assert boss.get(f"/staff/admin/users/{user.id}/password").status_code == 200
    response = boss.post(f"/staff/admin/users/{user.id}/password",
                         data={"password": "Brand-new-pass-7", "confirm": "Brand-new-pass-7"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is None
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "c-one", "password": "Brand-new-pass-7"}).status_code == 303
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_id == user.id)) == "user.password_reset"


def test_password_reset_refuses_a_short_password(boss, make_user):
    user = make_user("coordinator")
    response = boss.post(f"/staff/admin/users/{user.id}/password", data={"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "密码至少 10 位。" in response.get_data(as_text=True)
