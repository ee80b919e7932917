"""What the auditor reads: one loader per object, searches and lists (read-only, paginated, no N+1)."""

from flask import abort
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ...domain import reports, transfers
from ...domain.identity import normalize_id
from ...domain.product_data import REPORT_KINDS
from ...extensions import db
from ...models import (
    Appointment,
    AuditCheckpoint,
    AuditLog,
    Bill,
    Case,
    Document,
    EscortAssignment,
    EscortHourLog,
    InsuredPerson,
    Policy,
    SlaClock,
    Transfer,
    User,
    VisaApplication,
    WeeklyReport,
    utcnow,
)

PER_PAGE = 25
#: documents 史带 receives on completion (SPEC §6): reports, translations, service reports, bills
DELIVERED_KINDS = tuple(REPORT_KINDS)


def get_case_or_404(case_id: int) -> Case:
    """Any case (auditors oversee all of them), with what its page shows loaded up front."""
    case = db.session.scalar(
        select(Case).where(Case.id == case_id).options(
            joinedload(Case.insured), joinedload(Case.policy), joinedload(Case.assignee),
            joinedload(Case.hospital), joinedload(Case.expert),
            selectinload(Case.clocks), selectinload(Case.documents).joinedload(Document.uploaded_by)))
    if case is None:
        abort(404)
    return case


def get_document_or_404(document_id: int) -> Document:
    """Any stored document, withdrawn ones included (nothing is hidden from the record)."""
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404)
    return document


def get_report_or_404(report_id: int) -> WeeklyReport:
    report = db.session.get(WeeklyReport, report_id)
    if report is None:
        abort(404)
    return report


def search_cases(*, q: str = "", line: str = "", status: str = "", sla: str = "", page: int = 1,
                 id_number: str = ""):
    """Cases by reference, insured name or policy number (`q`), or by full ID number (POSTed only); newest first."""
    query = (select(Case).join(InsuredPerson, Case.insured_id == InsuredPerson.id)
             .join(Policy, Case.policy_id == Policy.id)
             .options(joinedload(Case.insured), joinedload(Case.policy), joinedload(Case.assignee)))
    q = q.strip()
    if q:
        like = f"%{q}%"
        query = query.where(or_(Case.ref.ilike(like), InsuredPerson.name.ilike(like), Policy.policy_no.ilike(like)))
    if id_number:
        query = query.where(InsuredPerson.id_number == normalize_id(id_number))
    if line:
        query = query.where(Case.line_code == line)
    if status:
        query = query.where(Case.status == status)
    if sla:
        condition = reports.overdue_at(utcnow()) if sla == "overdue" else reports.at_risk_at(utcnow())
        query = query.where(Case.id.in_(select(SlaClock.case_id).join(Case, SlaClock.case_id == Case.id)
                                        .where(condition)))
    query = query.order_by(Case.submitted_at.desc(), Case.id.desc())
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def case_services(case: Case) -> dict:
    """What the case arranged: appointments, escorts, visas, bills, escort hours (one query each)."""
    def rows(model, *options, order=None):
        query = select(model).where(model.case_id == case.id).options(*options)
        return list(db.session.scalars(query.order_by(order if order is not None else model.id)))

    hours = rows(EscortHourLog, order=EscortHourLog.day)
    return {
        "appointments": rows(Appointment, joinedload(Appointment.hospital)),
        "escorts": rows(EscortAssignment, joinedload(EscortAssignment.escort), joinedload(EscortAssignment.hospital)),
        "visas": rows(VisaApplication),
        "bills": rows(Bill, order=Bill.bill_date),
        "hours": hours,
        "hours_total": sum((h.hours for h in hours), 0),
        # records sent abroad and the consents they rest on (SPEC §7: each transfer is shown to 史带)
        "transfers": rows(Transfer, joinedload(Transfer.consent)),
        "cross_border_consents": transfers.consents_for_case(case),
    }


def delivered_reports(*, line: str = "", page: int = 1):
    """Reports delivered to 史带 (SPEC §6), newest first, with their cases."""
    query = (select(Document).join(Case, Document.case_id == Case.id)
             .where(Document.delivered_at.is_not(None), Document.kind.in_(DELIVERED_KINDS))
             .options(joinedload(Document.case).joinedload(Case.insured))
             .order_by(Document.delivered_at.desc(), Document.id.desc()))
    if line:
        query = query.where(Case.line_code == line)
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def bills_by_case(case_ids) -> dict[int, list[Bill]]:
    """The bills of several cases in one query, keyed by case id."""
    grouped: dict[int, list[Bill]] = {}
    if case_ids:
        for bill in db.session.scalars(select(Bill).where(Bill.case_id.in_(set(case_ids)))
                                       .order_by(Bill.bill_date, Bill.id)):
            grouped.setdefault(bill.case_id, []).append(bill)
    return grouped


def weekly_reports(page: int = 1):
    """Every stored weekly report version, newest week first, latest version first."""
    query = select(WeeklyReport).order_by(WeeklyReport.week.desc(), WeeklyReport.version.desc())
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def latest_versions() -> dict[str, int]:
    """week → its latest version number."""
    return dict(db.session.execute(select(WeeklyReport.week, func.max(WeeklyReport.version))
                                   .group_by(WeeklyReport.week)).all())


def versions_of(week: str) -> list[WeeklyReport]:
    return list(db.session.scalars(select(WeeklyReport).where(WeeklyReport.week == week)
                                   .order_by(WeeklyReport.version.desc())))


def latest_report() -> WeeklyReport | None:
    return db.session.scalar(select(WeeklyReport).order_by(WeeklyReport.week.desc(), WeeklyReport.version.desc())
                             .limit(1))


def audit_entries(*, action: str = "", ref: str = "", page: int = 1):
    """The audit log, newest first; `names` and `refs` resolve actors and cases of the page (2 queries)."""
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if action:
        query = query.where(AuditLog.action == action)
    if ref.strip():
        query = query.where(AuditLog.case_id.in_(select(Case.id).where(Case.ref == ref.strip())))
    pagination = db.paginate(query, page=page, per_page=50, error_out=False)
    actor_ids = {e.actor_id for e in pagination.items if e.actor_id}
    case_ids = {e.case_id for e in pagination.items if e.case_id}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).all())
    refs = dict(db.session.execute(select(Case.id, Case.ref).where(Case.id.in_(case_ids))).all())
    return pagination, names, refs


def checkpoints(page: int = 1):
    """Signed audit checkpoints, newest first (issue 16)."""
    return db.paginate(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()), page=page, per_page=PER_PAGE,
                       error_out=False)


def get_checkpoint_or_404(checkpoint_id: int) -> AuditCheckpoint:
    return db.session.get(AuditCheckpoint, checkpoint_id) or abort(404)
