"""CLI contract (SPEC §8): demo-data is idempotent, policies import is all-or-nothing, imports are audited."""

import json

from helpers import notice_2027, valid_id_card
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditLog, Escort, Expert, Hospital, InsuredPerson, Policy, Product, ServiceLine, User

COUNTED = (Product, ServiceLine, Policy, InsuredPerson, User, Hospital, Escort, Expert)


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def test_demo_data_is_idempotent_and_lists_the_logins(runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts
    assert counts["ServiceLine"] == 6 and counts["Hospital"] >= 30
    for username in ("wangjianguo", "lixiuying", "zhangwei", "coord1", "coord2", "supervisor", "auditor"):
        assert username in second.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"insured", "coordinator", "supervisor", "auditor", "auditor_admin"}


HEADER = (
    "policy_no,product_code,holder_name,start_date,end_date,waiting_days,status,"
    "insured_name,id_type,id_number,phone,email\n"
)


def _write(tmp_path, rows):
    path = tmp_path / "policies.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_policies_import_upserts_rows(runner, product, tmp_path):
    good = [
        f"P-1,ZJJYB,甲,2026-01-01,2026-12-31,90,active,甲,id_card,{valid_id_card(1)},13900000001,\n",
        f"P-1,ZJJYB,甲,2026-01-01,2026-12-31,90,active,甲妻,id_card,{valid_id_card(2)},,\n",
        "P-2,ZJJYB,乙,2026-03-01,2027-02-28,,active,乙,passport,E7654321,,b@example.com\n",
    ]
    result = runner.invoke(args=["policies", "import", str(_write(tmp_path, good))])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Policy.id))) == 2
    assert db.session.scalar(select(func.count(InsuredPerson.id))) == 3
    # a second import of the same file updates, never duplicates
    again = runner.invoke(args=["policies", "import", str(_write(tmp_path, good))])
    assert again.exit_code == 0
    assert db.session.scalar(select(func.count(InsuredPerson.id))) == 3
    audits = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "policy.import").order_by(AuditLog.id)))
    assert [(a.actor_role, a.actor_id, a.detail["file"]) for a in audits] == [("system", None, "policies.csv")] * 2
    # two policies, each counted once however many insured people it lists
    assert [(a.detail["policies_created"], a.detail["policies_updated"]) for a in audits] == [(2, 0), (0, 2)]
    assert [(a.detail["insured_created"], a.detail["insured_updated"]) for a in audits] == [(3, 0), (0, 3)]


def test_policies_import_with_one_bad_row_names_it_and_writes_nothing(runner, product, tmp_path):
    rows = [
        f"P-1,ZJJYB,甲,2026-01-01,2026-12-31,90,active,甲,id_card,{valid_id_card(1)},,\n",
        "P-2,ZJJYB,乙,2026-13-01,2026-12-31,90,active,乙,id_card,110105195803071230,,\n",
        f"P-3,ZJJYB,丙,2026-01-01,2026-12-31,90,active,丙,id_card,{valid_id_card(3)},,\n",
    ]
    before = _counts()
    result = runner.invoke(args=["policies", "import", str(_write(tmp_path, rows))])
    assert result.exit_code != 0
    assert "第 3 行" in result.output  # the header is line 1, so the second data row is line 3
    assert "日期格式" in result.output and "校验位" in result.output
    assert _counts() == before
    assert db.session.scalar(select(func.count(AuditLog.id))) == 0


def test_holidays_import_from_the_cli_is_audited(runner, tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(notice_2027(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["holidays", "import", str(path)])
    assert result.exit_code == 0, result.output
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "holiday.import"))
    assert (audit.actor_role, audit.detail) == (
        "system", {"year": 2027, "days": 24, "recomputed": 0, "moved": 0, "outcomes_changed": []})


def test_an_incomplete_notice_is_refused_by_the_cli_and_writes_nothing(runner, tmp_path):
    """Issue 17 item 6: a one-day notice would make the whole year official."""
    path = tmp_path / "2027.json"
    path.write_text('{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}',
                    encoding="utf-8")
    result = runner.invoke(args=["holidays", "import", str(path)])
    assert result.exit_code != 0
    assert "2027 年通知不完整，缺少：春节、清明节、劳动节、端午节、中秋节、国庆节" in result.output
    assert db.session.scalar(select(func.count(AuditLog.id))) == 0
