"""Issue 17 item 16: reports are sent to 史带 — the auditors' inbox, e-mail to the configured address (the
weekly report with its XLSX), 已阅 by an auditor, and what is unsent or unread visible to 英仕's supervisor."""

import io

import pytest
from casework import at, document, open_case, walk
from helpers import accept_required_documents
from openpyxl import load_workbook
from sqlalchemy import select

from portal import mail
from portal.blueprints.auditor.exports import weekly_xlsx
from portal.domain import insurer, reports
from portal.extensions import db
from portal.models import AuditLog, InsurerDelivery


@pytest.fixture
def second_opinion(make_policy, directory, staff):
    """A domestic second opinion delivered on 2026-06-10."""
    case = open_case(make_policy, directory, "domestic_second_opinion", at(2026, 6, 1, 9), staff.coord)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {})])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 2, 9))
    walk(case, staff.coord, [("materials_complete", at(2026, 6, 2, 10), {}),
                             ("assign_expert", at(2026, 6, 2, 11), {"expert_id": directory.expert.id})])
    report = document(case, "report", "第二诊疗意见.pdf")
    walk(case, staff.coord, [("issue_report", at(2026, 6, 10, 10), {"document_id": report.id}),
                             ("deliver", at(2026, 6, 10, 11), {})])
    return case, report


def test_a_delivered_report_reaches_the_insurers_inbox_and_mail(app, second_opinion):
    case, report = second_opinion
    app.config["INSURER_REPORT_EMAIL"] = "reports@sd.example"
    row = db.session.scalars(select(InsurerDelivery)).one()
    assert (row.kind, row.case_id, row.document_ids, row.read_at) == ("case_report", case.id, [report.id], None)
    assert row.title == f"{case.ref} 国内第二诊疗意见：第二诊疗意见报告"
    assert row.email_to is None                         # no address was configured when it was delivered
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 10, 12)) == 0
    row.email_to = "reports@sd.example"
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 10, 12)) == 1
    [message] = mail.outbox()
    assert message["To"] == "reports@sd.example" and case.ref in message["Subject"]
    assert case.insured.name not in message.get_content()   # no personal data by e-mail
    assert row.emailed_at == at(2026, 6, 10, 12)
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 10, 13)) == 0  # once


def test_the_weekly_report_is_mailed_with_its_xlsx(app, product):
    app.config["INSURER_REPORT_EMAIL"] = "reports@sd.example"
    report = reports.build_weekly("2026-W23", built_by="scheduler", now=at(2026, 6, 8, 9))
    row = db.session.scalars(select(InsurerDelivery)).one()
    assert (row.kind, row.weekly_report_id, row.email_to) == ("weekly_report", report.id, "reports@sd.example")
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 8, 9, 2)) == 1
    [message] = mail.outbox()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "weekly-report-2026-W23-v1.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()))
    assert book["报告信息"]["A1"].value == "英仕每周服务进度报告"


def test_a_failed_send_stays_unsent_visible_and_is_tried_again(app, second_opinion, monkeypatch):
    row = db.session.scalars(select(InsurerDelivery)).one()
    row.email_to = "reports@sd.example"
    def refuse(*args, **kwargs):
        raise mail.DeliveryError("SMTPServerDisconnected: gone")

    monkeypatch.setattr(mail, "deliver", refuse)
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 10, 12)) == 0
    assert row.emailed_at is None and row.email_error.startswith("邮件未能发出")
    assert row.email_error.endswith("SMTPServerDisconnected: gone")
    assert insurer.status() == insurer.Status(unsent=1, unread=1)
    monkeypatch.undo()
    assert insurer.send_pending(weekly_xlsx, now=at(2026, 6, 10, 13)) == 1
    assert (row.email_error, insurer.status()) == (None, insurer.Status(unsent=0, unread=1))


def test_an_auditor_marks_a_delivery_read_once_and_it_is_audited(app, second_opinion, make_user):
    auditor = make_user("auditor")
    row = db.session.scalars(select(InsurerDelivery)).one()
    assert insurer.mark_read(row, actor=auditor, now=at(2026, 6, 11, 9)) is True
    assert insurer.mark_read(row, actor=auditor, now=at(2026, 6, 11, 10)) is False
    assert (row.read_at, row.read_by_id) == (at(2026, 6, 11, 9), auditor.id)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "insurer_delivery.read")).one()
    assert (entry.actor_id, entry.object_id, entry.case_id) == (auditor.id, row.id, row.case_id)
    assert insurer.status().unread == 0
