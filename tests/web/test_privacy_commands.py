"""`flask privacy restrict` and `flask privacy notice-add` (SPEC §7): the supervisor's job from the command line and
a new notice version as a new row."""

from datetime import timedelta

from coordinator_support import covered_insured as insured_for
from coordinator_support import make_directory, open_case, today
from sqlalchemy import select

from portal.domain import consent, lifecycle
from portal.extensions import db
from portal.models import AuditLog, Document, Notice


def test_restrict_command_restricts_what_outlived_its_retention(runner, make_policy, make_user):
    directory = make_directory()
    coord = make_user("coordinator")
    case = open_case(insured_for(make_policy), "green_outpatient", directory, actor=coord)
    doc = Document(case_id=case.id, kind="medical_record", original_name="a.pdf", stored_name="s-a.pdf",
                   content_type="application/pdf", size=1, sha256="0" * 64)
    db.session.add(doc)
    lifecycle.perform(case, "terminate", actor=coord, reason="duplicate", note="")
    case.closed_at -= timedelta(days=6 * 366)
    db.session.commit()
    result = runner.invoke(args=["privacy", "restrict"])
    assert result.exit_code == 0, result.output
    assert "文件 1 份，病情描述 1 条" in result.output
    db.session.expire_all()
    assert db.session.get(Document, doc.id).restricted_at is not None
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "privacy.restrict"))["documents"] == 1


def test_notice_add_appends_a_version_that_asks_again_from_its_date(runner, make_policy, tmp_path):
    person = insured_for(make_policy)
    (tmp_path / "s.txt").write_text("新摘要", encoding="utf-8")
    (tmp_path / "b.txt").write_text("新全文", encoding="utf-8")
    args = ["privacy", "notice-add", "--kind", "privacy", "--title", "个人信息处理告知书（第2版）",
            "--summary-file", str(tmp_path / "s.txt"), "--body-file", str(tmp_path / "b.txt")]
    later = runner.invoke(args=[*args, "--effective", (today() + timedelta(days=10)).isoformat()])
    assert later.exit_code == 0 and "第 2 版" in later.output
    assert consent.has_consent(person)  # not in effect yet
    now = runner.invoke(args=[*args, "--effective", today().isoformat()])
    assert now.exit_code == 0 and "第 3 版" in now.output
    assert not consent.has_consent(person)
    versions = db.session.scalars(select(Notice.version).where(Notice.kind == "privacy").order_by(Notice.version))
    assert list(versions) == [1, 2, 3]
