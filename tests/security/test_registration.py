"""Registration with proof of possession: a code to the register's phone, one uniform answer (issue 13 item 1)."""

import re
from datetime import timedelta

import pytest
from helpers import valid_id_card
from sqlalchemy import func, select

from portal import sms
from portal.domain import registration
from portal.extensions import db
from portal.models import AuditLog, InsuredPerson, OutboundMessage, RegistrationCode, User, utcnow

ID = valid_id_card(4242)
PASSWORD = "Qp-registr8tion"


@pytest.fixture
def person(make_policy):
    person = make_policy(name="李测试", id_number=ID, policy_no="SD-REG-1")
    person.phone, person.email = "13900001111", None
    db.session.commit()
    return person


def _step_one(client, **overrides):
    form = {"name": "李测试", "id_type": "id_card", "id_number": ID, "policy_no": "SD-REG-1", **overrides}
    return client.post("/register", data=form)


def _code_in_sms() -> str:
    return re.search(r"验证码为 (\d{6})", sms.outbox()[-1]["text"]).group(1)


def _step_two(client, code, **overrides):
    form = {"code": code, "username": "lice", "password": PASSWORD, "confirm": PASSWORD, "email": "", "phone": "",
            **overrides}
    return client.post("/register/code", data=form)


def _answer(client, **overrides) -> str:
    first = _step_one(client, **overrides)
    assert first.status_code == 303 and first.headers["Location"].endswith("/register/code")
    return client.get("/register/code").get_data(as_text=True)


def test_every_outcome_of_step_one_gives_the_same_answer(app, person, make_policy, make_user):
    registered = make_policy(name="张已注", policy_no="SD-REG-2")
    registered.phone = "13900002222"
    make_user("insured", insured=registered)
    answers = {
        "success": _answer(app.test_client()),
        "no_policy": _answer(app.test_client(), policy_no="SD-NOPE"),
        "not_insured": _answer(app.test_client(), id_number=valid_id_card(9999)),
        "name_mismatch": _answer(app.test_client(), name="王别人"),
        "already_registered": _answer(app.test_client(), name="张已注", id_number=registered.id_number,
                                      policy_no="SD-REG-2"),
    }
    assert len(set(answers.values())) == 1, {k: len(v) for k, v in answers.items()}
    assert registration.UNIFORM_ANSWER in answers["success"]
    assert len(sms.outbox()) == 1 and sms.outbox()[0]["to"] == "13900001111"  # only the real match got a code
    outcomes = [e.detail["outcome"] for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "register.request").order_by(AuditLog.id))]
    assert outcomes == ["matched", "no_policy", "not_insured", "name_mismatch", "already_registered"]
    assert all(ID not in str(e.detail) for e in db.session.scalars(select(AuditLog)))  # masked in the log


def test_a_register_without_phone_points_to_the_hotline(client, person):
    person.phone = None
    db.session.commit()
    body = _answer(client)
    assert "400-606-5033" in body and sms.outbox() == []
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "register.request"))["outcome"] \
        == "no_phone"


def test_no_account_exists_without_the_code(client, person):
    _step_one(client)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "insured")) == 0
    response = _step_two(client, "000000" if _code_in_sms() != "000000" else "111111")
    assert response.status_code == 422 and "验证码不正确" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "insured")) == 0


def test_the_code_creates_the_account_once_and_never_changes_the_register(client, person):
    _step_one(client)
    code = _code_in_sms()
    response = _step_two(client, code, email="mine@example.com", phone="13700009999")
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/")
    user = db.session.scalar(select(User).where(User.username == "lice"))
    assert user.insured_id == person.id and (user.email, user.phone) == ("mine@example.com", "13700009999")
    db.session.expire_all()
    register = db.session.get(InsuredPerson, person.id)
    assert (register.email, register.phone) == (None, "13900001111")  # the insurer's register is untouched
    assert client.get("/me/").status_code == 200
    with client.session_transaction() as s:
        s["register_token"] = db.session.scalar(select(RegistrationCode.token))
    reused = _step_two(client, code, username="second")
    assert reused.status_code == 422
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "insured")) == 1


def test_a_code_expires(client, person):
    _step_one(client)
    code = _code_in_sms()
    row = db.session.scalar(select(RegistrationCode))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _step_two(client, code).status_code == 422
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "insured")) == 0


def test_a_code_dies_after_too_many_wrong_entries(client, person):
    _step_one(client)
    code = _code_in_sms()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(registration.MAX_ATTEMPTS):
        assert _step_two(client, wrong).status_code == 422
    assert _step_two(client, code).status_code == 422  # even the right one now
    assert db.session.scalar(select(RegistrationCode.attempts)) == registration.MAX_ATTEMPTS


def test_resend_sends_a_new_code_and_kills_the_old(client, person):
    _step_one(client)
    old = _code_in_sms()
    assert client.post("/register/resend").status_code == 303
    new = _code_in_sms()
    assert len(sms.outbox()) == 2
    if new != old:
        assert _step_two(client, old).status_code == 422
    assert _step_two(client, new).status_code == 303


def test_codes_to_one_person_are_capped_whoever_asks(app, person):
    for n in range(registration.MAX_CODES_PER_HOUR + 2):  # from many addresses: the per-address limit never bites
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        assert _step_one(client).status_code == 303
    assert len(sms.outbox()) == registration.MAX_CODES_PER_HOUR
    outcomes = db.session.scalars(select(AuditLog.detail).where(AuditLog.action == "register.request"))
    assert [o["outcome"] for o in outcomes][-1] == "too_many_codes"


def test_the_code_is_in_the_outbox_marked_sent(client, person):
    _step_one(client)
    message = db.session.scalar(select(OutboundMessage))
    assert (message.channel, message.purpose, message.status, message.attempts) == ("sms", "registration_code",
                                                                                    "sent", 1)
    assert message.sent_at is not None


def test_register_form_refuses_bidi_characters(client, person):
    response = _step_one(client, name="李测试\u202e")
    assert response.status_code == 422 and "U+202E" in response.get_data(as_text=True)
