"""What the insured may load: only their own policy, cases, documents and inbox; anything else is 404."""

from flask import abort, g
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ...domain.product_data import REPORT_KINDS
from ...extensions import db
from ...models import (
    Appointment,
    Case,
    Document,
    DocumentRequest,
    EscortAssignment,
    Hospital,
    InsuredPerson,
    Notification,
    Policy,
    Product,
)


def my_insured():
    """The InsuredPerson behind the logged-in account (404 for an account bound to nobody).

    Its policy, product and lines come in the same two queries: every insured page shows them, and one
    lazy load after another cost four round trips. Kept on `g` for the rest of the request (the consent gate
    and the view both ask): `session.get` with loader options would run both queries again.
    """
    insured = g.get("my_insured")
    if insured is not None:
        return insured
    if current_user.insured_id is not None:
        insured = db.session.get(InsuredPerson, current_user.insured_id, options=[
            joinedload(InsuredPerson.policy).joinedload(Policy.product).selectinload(Product.lines)])
    if insured is None:
        abort(404)
    g.my_insured = insured
    return insured


def line_or_404(line_code: str):
    """A service line of the insured's own product."""
    line = my_insured().policy.product.line(line_code)
    if line is None:
        abort(404)
    return line


def get_case_or_404(case_id: int, *options) -> Case:
    """The one ownership check for cases: another person's id answers exactly like a missing one."""
    case = db.session.scalar(
        select(Case).where(Case.id == case_id, Case.insured_id == current_user.insured_id).options(*options)
    )
    if case is None:
        abort(404)
    return case


def get_document_or_404(case: Case, document_id: int) -> Document:
    """A document of `case` the insured may see: not withdrawn; reports only once delivered."""
    document = db.session.scalar(
        select(Document).where(Document.id == document_id, Document.case_id == case.id,
                               Document.withdrawn_at.is_(None))
    )
    if document is None or (document.kind in REPORT_KINDS and document.delivered_at is None):
        abort(404)
    return document


def my_cases_page(page: int, per_page: int = 10):
    """The insured's cases, newest first, with what the list shows loaded up front."""
    query = (
        select(Case).where(Case.insured_id == current_user.insured_id)
        .options(selectinload(Case.clocks))
        .order_by(Case.submitted_at.desc(), Case.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def case_for_panel(case_id: int) -> Case:
    """A case with everything the tracking panel shows, in a fixed number of queries."""
    return get_case_or_404(case_id, selectinload(Case.clocks), selectinload(Case.documents),
                           selectinload(Case.hospital), selectinload(Case.assignee))


def open_requests(case: Case) -> list[DocumentRequest]:
    """The coordinator's requests for more material that are not resolved yet."""
    return list(db.session.scalars(
        select(DocumentRequest).where(DocumentRequest.case_id == case.id, DocumentRequest.resolved_at.is_(None))
        .order_by(DocumentRequest.requested_at)
    ))


def case_notifications(case: Case, limit: int = 20) -> list[Notification]:
    """What we told the insured about this case, newest first."""
    return list(db.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.insured_id == case.insured_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def current_appointment(case: Case) -> Appointment | None:
    return db.session.scalar(
        select(Appointment).where(Appointment.case_id == case.id, Appointment.cancelled_at.is_(None))
        .options(selectinload(Appointment.hospital)).order_by(Appointment.booked_at.desc()).limit(1)
    )


def current_escort(case: Case) -> EscortAssignment | None:
    return db.session.scalar(
        select(EscortAssignment).where(EscortAssignment.case_id == case.id, EscortAssignment.cancelled_at.is_(None))
        .options(selectinload(EscortAssignment.escort), selectinload(EscortAssignment.hospital))
        .order_by(EscortAssignment.assigned_at.desc()).limit(1)
    )


def hospitals_in(city: str | None) -> list[Hospital]:
    """The active domestic directory hospitals of a city (the directory at request time rules)."""
    if not city:
        return []
    return list(db.session.scalars(
        select(Hospital).where(Hospital.overseas.is_(False), Hospital.active.is_(True), Hospital.city == city)
        .order_by(Hospital.name)
    ))


def unread_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.insured_id == current_user.insured_id, Notification.read_at.is_(None))
    ) or 0


def inbox_page(page: int, per_page: int = 20):
    query = (
        select(Notification).where(Notification.insured_id == current_user.insured_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
