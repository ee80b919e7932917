"""Control and bidi-format characters (Unicode Cc, Cf) and over-long names are refused, naming the line (item 10)."""

import io

import pytest
from helpers import valid_id_card
from sqlalchemy import func, select

from portal.domain.accounts import password_problem
from portal.extensions import db
from portal.models import Hospital, Policy

HEADER = "policy_no,product_code,holder_name,start_date,end_date,insured_name,id_number\n"


def _row(n, name):
    return f"SD-T-{n},ZJJYB,{name},2026-01-01,2026-12-31,{name},{valid_id_card(n)}\n"


@pytest.fixture
def boss(login_as, product):
    return login_as("supervisor")


def _upload(client, url, text):
    return client.post(url, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode("utf-8")), "f.csv")})


@pytest.mark.parametrize(("name", "needle"), [
    ("王五\u202e", "U+202E"), ("赵\u200b六", "U+200B"), ("钱\u0007七", "U+0007"), ("孙" * 61, "不能超过 60 个字符"),
])
def test_policy_import_refuses_hidden_characters_and_long_names_by_line(boss, name, needle):
    response = _upload(boss, "/staff/admin/policies/import", HEADER + _row(1, "王一") + _row(2, name))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "第 3 行" in body and needle in body
    assert db.session.scalar(select(func.count(Policy.id))) == 0


def test_directory_import_and_forms_refuse_bidi_characters(boss):
    text = "name,city\n复旦\u202e医院,上海\n"
    response = _upload(boss, "/staff/admin/directory/hospital/import", text)
    assert response.status_code == 422 and "U+202E" in response.get_data(as_text=True)
    form = boss.post("/staff/admin/directory/hospital/new", data={"name": "某\u202e医院", "city": "上海"})
    assert form.status_code == 422 and "U+202E" in form.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Hospital.id))) == 0


def test_staff_names_refuse_format_characters(boss):
    response = boss.post("/staff/admin/users/new", data={
        "username": "new\u200duser", "display_name": "张\u202e三", "role": "coordinator",
        "password": "Lg-pass-w0rd-9", "confirm": "Lg-pass-w0rd-9"})
    assert response.status_code == 422 and "U+202E" in response.get_data(as_text=True)


@pytest.mark.parametrize("password", ["password", "12345678", "password123", "1234567890", "qwertyuiop",
                                      "zhangsan123"])
def test_weak_passwords_are_refused(password):
    assert password_problem(password, "zhangsan") is not None


def test_a_long_unusual_password_passes():
    assert password_problem("Lg-pass-w0rd-9") is None
