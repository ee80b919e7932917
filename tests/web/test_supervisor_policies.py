"""Policy import from the supervisor screen: all or nothing, errors by line."""

import io

import pytest
from helpers import valid_id_card
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditLog, InsuredPerson, Policy

HEADER = "policy_no,product_code,holder_name,start_date,end_date,insured_name,id_number\n"


@pytest.fixture
def boss(login_as, product):
    return login_as("supervisor")


def _upload(client, text):
    return client.post("/staff/admin/policies/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode("utf-8")), "policies.csv")})


def test_import_page_explains_the_columns(boss):
    body = boss.get("/staff/admin/policies/import").get_data(as_text=True)
    assert "<html" in body and "<strong>policy_no</strong>" in body and "waiting_days" in body


def test_a_good_file_is_imported_audited_and_counted(boss):
    text = HEADER + f"SD-W-1,ZJJYB,王一,2026-01-01,2026-12-31,王一,{valid_id_card(11)}\n"
    response = _upload(boss, text)
    assert response.status_code == 303
    assert "新增保单 1" in boss.get("/staff/admin/policies/import").get_data(as_text=True)
    assert db.session.scalar(select(func.count(InsuredPerson.id))) == 1
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "policy.import")).one()  # once, not twice
    assert (audit.actor_role, audit.detail["policies_created"], audit.detail["file"]) == (
        "supervisor", 1, "policies.csv")


def test_a_bad_line_rejects_the_whole_file_with_its_line_number(boss):
    text = (HEADER + f"SD-W-1,ZJJYB,王一,2026-01-01,2026-12-31,王一,{valid_id_card(11)}\n"
            + "SD-W-2,NOPE,王二,2026-01-01,2026-12-31,王二,123\n")
    response = _upload(boss, text)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 3 行" in body and "产品代码“NOPE”不存在" in body and "文件中的任何数据都未写入" in body
    assert db.session.scalar(select(func.count(Policy.id))) == 0


def test_a_missing_file_is_refused_at_the_field(boss):
    response = boss.post("/staff/admin/policies/import", data={})
    assert response.status_code == 422 and "请选择要导入的 CSV 文件。" in response.get_data(as_text=True)


def test_a_coordinator_cannot_import_policies(login_as, product):
    client = login_as("coordinator")
    assert client.get("/staff/admin/policies/import").status_code == 403
    assert _upload(client, HEADER).status_code == 403
