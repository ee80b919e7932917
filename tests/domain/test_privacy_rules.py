"""PIPL rules (SPEC §7 Consent, Rights): no case without consent on any channel, a new notice version asks
again, withdrawal stops the dependent cases and releases their units, the cross-border gate on both overseas
lines with its transfer log, retention and restriction."""

from datetime import date, timedelta

import pytest
from casework import at, document, insured_for, make_directory, make_staff, open_case, request_data, walk
from helpers import accept_required_documents
from sqlalchemy import func, select

from portal.domain import consent, intake, lifecycle, privacy_rights, transfers
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import (
    AppendOnlyError,
    Case,
    ConsentRecord,
    Entitlement,
    Notice,
    Restriction,
    Transfer,
)

DAY1 = at(2026, 6, 1, 9)


@pytest.fixture
def directory(app, product):
    return make_directory()


@pytest.fixture
def staff(make_user):
    return make_staff(make_user)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _reserved(case) -> int:
    row = db.session.scalar(select(Entitlement).where(Entitlement.insured_id == case.insured_id,
                                                      Entitlement.line_code == case.line_code))
    db.session.refresh(row)
    return row.reserved


@pytest.mark.parametrize("channel", ["portal", "ys_hotline", "sd_hotline"])
def test_no_case_is_created_without_consent_on_any_channel(make_policy, directory, staff, channel):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    with pytest.raises(DomainError) as error:
        intake.submit_request(insured=insured, line_code="green_outpatient", actor=staff.coord, channel=channel,
                              data=request_data("green_outpatient", directory, DAY1.date()), now=DAY1)
    assert error.value.field == "consent"
    assert "单独同意" in error.value.message and "不能创建案件" in error.value.message
    db.session.rollback()
    assert _count(Case) == 0  # not even an ineligible request is kept without consent


def test_a_hotline_consent_records_who_when_which_version_and_the_coordinator_who_read_it(
        make_policy, directory, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    record = consent.give(insured, actor=staff.coord, channel="hotline", now=DAY1)
    case = intake.submit_request(insured=insured, line_code="green_outpatient", actor=staff.coord,
                                 channel="ys_hotline", data=request_data("green_outpatient", directory, DAY1.date()),
                                 now=DAY1)
    assert case.status == "submitted"
    notice = consent.current_notice("privacy", DAY1)
    assert (record.insured_id, record.purpose, record.action, record.notice_id, record.channel) == (
        insured.id, "processing", "given", notice.id, "hotline")
    assert (record.actor_id, record.actor_role, record.actor_name, record.at) == (
        staff.coord.id, "coordinator", "陈晓", DAY1)


def test_the_portal_consent_is_the_insured_s_own_and_hotline_consent_needs_staff(make_policy, make_user, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    someone_else = make_user("insured", insured=insured_for(make_policy, DAY1.date()))
    with pytest.raises(DomainError):
        consent.give(insured, actor=someone_else, channel="portal")
    with pytest.raises(DomainError):
        consent.give(insured, actor=someone_else, channel="hotline")
    own = make_user("insured", insured=insured)
    assert consent.give(insured, actor=own, channel="portal").actor_id == own.id


def test_a_new_notice_version_asks_again_from_its_effective_date(make_policy, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    consent.give(insured, actor=staff.coord, channel="hotline", now=DAY1)
    assert consent.has_consent(insured, DAY1)
    old = consent.current_notice("privacy", DAY1)
    db.session.add(Notice(kind="privacy", version=old.version + 1, effective_from=date(2026, 7, 1),
                          title=old.title, summary="新版摘要", body="新版全文"))
    db.session.flush()
    assert consent.has_consent(insured, at(2026, 6, 30, 12))  # not in effect yet
    assert not consent.has_consent(insured, at(2026, 7, 1, 9))  # in effect: asked again
    consent.give(insured, actor=staff.coord, channel="hotline", now=at(2026, 7, 1, 9))
    assert consent.has_consent(insured, at(2026, 7, 1, 10))
    assert consent.latest(insured).notice.version == old.version + 1


def test_notices_and_consent_records_are_append_only(make_policy, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    record = consent.give(insured, actor=staff.coord, channel="hotline", now=DAY1)
    db.session.commit()
    record.action = "withdrawn"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    notice = db.session.get(Notice, record.notice_id)
    db.session.delete(notice)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_withdrawal_stops_every_open_case_with_its_own_reason_and_releases_the_units(
        make_policy, directory, staff):
    insured = insured_for(make_policy, DAY1.date())
    running = open_case(make_policy, directory, "green_outpatient", DAY1, staff.coord, insured=insured)
    walk(running, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {})])
    fresh = open_case(make_policy, directory, "domestic_escort", DAY1, staff.coord, insured=insured)
    assert _reserved(running) == _reserved(fresh) == 1
    record, stopped = consent.withdraw(insured, actor=staff.coord, channel="hotline", note="来电撤回",
                                       now=at(2026, 6, 2, 10))
    db.session.commit()
    assert {c.id for c in stopped} == {running.id, fresh.id}
    for case in (running, fresh):
        assert (case.status, case.termination_reason) == ("terminated", "consent_withdrawn")
        assert _reserved(case) == 0
        last = case.events[-1]
        assert last.action == "terminate_by_rule" and f"记录 {record.id}" in last.summary
        assert "撤回个人信息处理同意" in last.summary
    assert (record.action, record.channel, record.actor_id, record.note) == (
        "withdrawn", "hotline", staff.coord.id, "来电撤回")
    # nothing new is processed: a new request is refused, and staff actions on the stopped case too
    with pytest.raises(DomainError):
        intake.submit_request(insured=insured, line_code="green_inpatient", actor=staff.coord, channel="ys_hotline",
                              data=request_data("green_inpatient", directory, DAY1.date()), now=at(2026, 6, 3))
    db.session.rollback()
    with pytest.raises(DomainError):
        lifecycle.perform(running, "confirm_hospital", actor=staff.coord, hospital_id=directory.bj.id,
                          department="内科")
    db.session.rollback()


def test_withdrawal_without_a_standing_consent_is_refused(make_policy, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    with pytest.raises(DomainError, match="没有有效的同意"):
        consent.withdraw(insured, actor=staff.coord, channel="hotline")


def _second_opinion_until_imaging(make_policy, directory, staff):
    case = open_case(make_policy, directory, "overseas_second_opinion", DAY1, staff.coord)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}),
                             ("launch_decision", at(2026, 6, 2, 10), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 3, 9))
    return walk(case, staff.coord, [("materials_complete", at(2026, 6, 3, 10), {}),
                                    ("history_translated", at(2026, 6, 5, 10), {}),
                                    ("imaging_transferred", at(2026, 6, 8, 10), {})])


def _treatment_until_translated(make_policy, directory, staff):
    case = open_case(make_policy, directory, "overseas_treatment", DAY1, staff.coord)
    walk(case, staff.coord, [("verify", at(2026, 6, 1, 10), {}), ("accept", at(2026, 6, 1, 11), {}),
                             ("launch_decision", at(2026, 6, 2, 10), {"launch": True})])
    accept_required_documents(case, staff.coord, now=at(2026, 6, 3, 9))
    return walk(case, staff.coord, [("materials_complete", at(2026, 6, 3, 10), {}),
                                    ("history_translated", at(2026, 6, 5, 10), {})])


SENDS = {
    "overseas_second_opinion": (_second_opinion_until_imaging, "choose_provider",
                                lambda d: {"country": "美国", "hospital_id": d.us.id}),
    "overseas_treatment": (_treatment_until_translated, "hospital_accepted", lambda d: {"hospital_id": d.us.id}),
}


@pytest.mark.parametrize("line", list(SENDS))
def test_the_sending_action_is_refused_until_the_insured_consented_to_that_recipient(
        make_policy, directory, staff, line):
    until, action, fields = SENDS[line]
    case = until(make_policy, directory, staff)
    with pytest.raises(DomainError) as error:
        lifecycle.perform(case, action, actor=staff.coord, now=at(2026, 6, 9, 10), **fields(directory))
    assert "尚未同意向美国的MD Anderson Cancer Center发送资料" in error.value.message
    assert error.value.field == "hospital_id"
    db.session.rollback()
    # a consent naming another recipient does not cover this one
    transfers.give(case, hospital_id=directory.de.id, actor=staff.coord, channel="hotline", now=at(2026, 6, 9, 9))
    db.session.commit()
    with pytest.raises(DomainError):
        lifecycle.perform(case, action, actor=staff.coord, now=at(2026, 6, 9, 10), **fields(directory))
    db.session.rollback()
    record = transfers.give(case, hospital_id=directory.us.id, actor=staff.coord, channel="hotline",
                            now=at(2026, 6, 9, 9, 30))
    db.session.commit()
    assert (record.purpose, record.country, record.recipient, record.actor_id) == (
        "cross_border", "美国", "MD Anderson Cancer Center", staff.coord.id)
    assert record.documents and {d["kind"] for d in record.documents} >= set(
        case.policy.product.line(line).required_documents)
    lifecycle.perform(case, action, actor=staff.coord, now=at(2026, 6, 9, 10), **fields(directory))
    db.session.commit()
    transfer = db.session.scalar(select(Transfer).where(Transfer.case_id == case.id))
    assert (transfer.consent_id, transfer.hospital_id, transfer.country, transfer.action) == (
        record.id, directory.us.id, "美国", action)
    assert [d["id"] for d in transfer.documents] == [d["id"] for d in record.documents]
    assert transfer.at == at(2026, 6, 9, 10) and transfer.actor_id == staff.coord.id
    assert f"传输记录 {transfer.id}" in case.events[-1].summary
    consented = [e for e in case.events if e.action == "cross_border_consent"]
    assert len(consented) == 2 and "MD Anderson" in consented[-1].summary


def test_no_cross_border_consent_once_the_records_were_sent_or_on_a_domestic_line(make_policy, directory, staff):
    domestic = open_case(make_policy, directory, "green_outpatient", DAY1, staff.coord)
    with pytest.raises(DomainError, match="不需要出境同意"):
        transfers.give(domestic, hospital_id=directory.us.id, actor=staff.coord, channel="hotline")
    db.session.rollback()


def _closed_case_with_document(make_policy, directory, staff, closed_on):
    case = open_case(make_policy, directory, "green_outpatient", DAY1, staff.coord)
    doc = document(case, "medical_record", "门诊病历.pdf")
    lifecycle.perform(case, "terminate", actor=staff.coord, reason="duplicate", note="", now=DAY1)
    case.closed_at = closed_on
    db.session.commit()
    return case, doc


def test_the_restriction_job_restricts_documents_and_free_text_once_retention_ended(make_policy, directory, staff):
    now = at(2032, 6, 2, 10)
    old, old_doc = _closed_case_with_document(make_policy, directory, staff, now - timedelta(days=5 * 366))
    recent, recent_doc = _closed_case_with_document(make_policy, directory, staff, now - timedelta(days=300))
    result = privacy_rights.restrict_expired(actor=staff.boss, now=now)
    db.session.commit()
    assert (result.documents, result.case_texts) == (1, 1)
    assert old_doc.restricted_at == now and old.restricted_at == now
    assert recent_doc.restricted_at is None and recent.restricted_at is None
    assert {(r.object_type, r.reason) for r in db.session.scalars(select(Restriction))} == {
        ("document", "retention_expired"), ("case_text", "retention_expired")}
    assert old.events[-1].action == "restricted"
    again = privacy_rights.restrict_expired(actor=staff.boss, now=now)
    assert (again.documents, again.case_texts) == (0, 0)  # idempotent


def test_a_granted_deletion_request_restricts_and_an_open_case_blocks_the_grant(make_policy, directory, staff):
    insured = insured_for(make_policy, DAY1.date())
    case = open_case(make_policy, directory, "green_outpatient", DAY1, staff.coord, insured=insured)
    doc = document(case, "medical_record")
    request = privacy_rights.file_request(insured, kind="deletion", text="请删除", actor=staff.coord,
                                          channel="hotline")
    with pytest.raises(DomainError, match="进行中的申请"):
        privacy_rights.decide(request, grant=True, reason="同意", actor=staff.boss)
    with pytest.raises(DomainError, match="只有主管"):
        privacy_rights.decide(request, grant=False, reason="不同意", actor=staff.coord)
    with pytest.raises(DomainError, match="处理理由"):
        privacy_rights.decide(request, grant=False, reason=" ", actor=staff.boss)
    lifecycle.perform(case, "terminate", actor=staff.coord, reason="duplicate", note="", now=DAY1)
    result = privacy_rights.decide(request, grant=True, reason="已核实身份，依法限制处理", actor=staff.boss)
    db.session.commit()
    assert (request.status, request.decided_by_id, request.outcome_reason) == (
        "granted", staff.boss.id, "已核实身份，依法限制处理")
    assert result.documents == 1 and doc.restricted_at is not None and case.restricted_at is not None
    assert db.session.scalar(select(Restriction.reason).where(Restriction.object_id == doc.id)) == "deletion_request"


def test_the_legal_hold_view_is_for_supervisors_with_a_ground_and_is_audited(make_policy, directory, staff):
    from portal.models import AuditLog

    case, doc = _closed_case_with_document(make_policy, directory, staff, at(2020, 1, 1))
    privacy_rights.restrict_expired(actor=staff.boss, now=at(2026, 6, 1))
    with pytest.raises(DomainError):
        privacy_rights.legal_hold_document(doc.id, reason="调查令", actor=staff.coord)
    with pytest.raises(DomainError):
        privacy_rights.legal_hold_document(doc.id, reason="", actor=staff.boss)
    assert privacy_rights.legal_hold_document(doc.id, reason="（2026）沪0101调字第1号", actor=staff.boss) is doc
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy.legal_hold_view"))
    assert entry.object_id == doc.id and entry.detail["reason"].startswith("（2026）")


def test_consent_records_list_newest_first(make_policy, staff):
    insured = insured_for(make_policy, DAY1.date(), consent=False)
    consent.give(insured, actor=staff.coord, channel="hotline", now=DAY1)
    consent.withdraw(insured, actor=staff.coord, channel="hotline", now=at(2026, 6, 2))
    assert [r.action for r in consent.records(insured)] == ["withdrawn", "given"]
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 2
