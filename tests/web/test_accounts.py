"""Login, throttling and insured self-registration against the policy register."""

import pytest
from helpers import valid_id_card
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User


@pytest.fixture
def registered_person(make_policy):
    return make_policy(name="李测试", id_number=valid_id_card(4242), policy_no="SD-REG-1")


def _register(client, **overrides):
    form = {"name": "李测试", "id_type": "id_card", "id_number": valid_id_card(4242), "policy_no": "SD-REG-1",
            "username": "lice", "password": "longpassword", "confirm": "longpassword", "email": "", "phone": ""}
    form.update(overrides)
    return client.post("/register", data=form)


def test_registration_binds_account_when_name_id_and_policy_match(client, registered_person):
    response = _register(client)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "lice"))
    assert user.role == "insured" and user.insured_id == registered_person.id
    assert client.get("/me/").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "王别人"}, "姓名与保单登记的被保险人姓名不一致"),
        ({"id_number": valid_id_card(9999)}, "该证件号码不是此保单的被保险人"),
        ({"policy_no": "SD-NOPE"}, "没有找到该保单号"),
        ({"id_number": valid_id_card(4242)[:-1] + ("0" if valid_id_card(4242)[-1] != "0" else "1")}, "校验位不正确"),
        ({"id_number": "12345"}, "应为 18 位"),
        ({"password": "short", "confirm": "short"}, "密码至少 8 位"),
    ],
)
def test_registration_mismatch_is_refused_with_its_reason(client, registered_person, overrides, message):
    response = _register(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "insured")) == 0


def test_passport_holders_may_register(client, make_policy):
    person = make_policy(name="Anna Li", policy_no="SD-PP-1")
    person.id_type, person.id_number = "passport", "E12345678"
    db.session.commit()
    response = _register(client, name="Anna Li", id_type="passport", id_number="e12345678", policy_no="SD-PP-1")
    assert response.status_code == 303


def test_a_person_can_register_only_once(client, registered_person):
    assert _register(client).status_code == 303
    client.post("/logout")
    response = _register(client, username="another")
    assert response.status_code == 422
    assert "已注册账号" in response.get_data(as_text=True)


def test_login_succeeds_and_goes_to_the_role_home(client, make_user):
    make_user("coordinator", username="coord", password="password123")
    response = client.post("/login", data={"username": "coord", "password": "password123"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/")


def test_login_never_redirects_off_site(client, make_user):
    make_user("coordinator", username="coord", password="password123")
    response = client.post("/login?next=//evil.example/x", data={"username": "coord", "password": "password123"})
    assert response.headers["Location"].endswith("/staff/")


def test_repeated_failures_lock_the_account_with_a_chinese_message(app, client, make_user):
    make_user("coordinator", username="coord", password="password123")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert "用户名或密码不正确" in client.post("/login", data={"username": "coord", "password": "x"}).get_data(
            as_text=True)
    locked = client.post("/login", data={"username": "coord", "password": "x"}).get_data(as_text=True)
    assert "账号已锁定" in locked
    # even the right password is refused while locked
    response = client.post("/login", data={"username": "coord", "password": "password123"})
    assert response.status_code == 422
    assert "暂时锁定" in response.get_data(as_text=True)


def test_deactivated_staff_cannot_log_in(client, make_user):
    make_user("coordinator", username="gone", password="password123", active=False)
    response = client.post("/login", data={"username": "gone", "password": "password123"})
    assert response.status_code == 422
    assert "已停用" in response.get_data(as_text=True)


def test_logout_is_a_post(login_as):
    client = login_as("auditor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 303
    assert client.get("/audit/").status_code == 302
