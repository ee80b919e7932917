"""What the insured may load: only their own policy, cases, documents and inbox; anything else is 404."""

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, current_app, g
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from ...domain import sla
from ...domain.product_data import REPORT_KINDS
from ...extensions import db
from ...models import (
    OPEN_STATUSES,
    STATUSES,
    Appointment,
    Case,
    Document,
    DocumentRequest,
    EscortAssignment,
    Hospital,
    InsuredPerson,
    Notification,
    OutcomeCorrection,
    Policy,
    Product,
    ServiceLine,
    SlaClock,
)


def my_insured():
    """The InsuredPerson behind the logged-in account (404 for an account bound to nobody).

    Its policy, product and lines come in the same two queries: every insured page shows them, and one
    lazy load after another cost four round trips. Kept on `g` for the rest of the request (a page may ask
    more than once): `session.get` with loader options would run both queries again.
    """
    who = current_user.insured_id
    kept = g.get("my_insured")
    if kept is not None and kept.id == who:  # the id too: tests run many requests in one app context
        return kept
    insured = None
    if who is not None:
        insured = db.session.get(InsuredPerson, who, options=[
            joinedload(InsuredPerson.policy).joinedload(Policy.product).selectinload(Product.lines)])
    if insured is None:
        abort(404)
    g.my_insured = insured
    return insured


@dataclass(frozen=True)
class HomeFacts:
    """What 我的服务 shows of the insured, the policy and the product: one row of plain values."""

    insured_id: int
    name: str
    id_number: str
    id_type: str
    policy_no: str
    start_date: date
    end_date: date
    product_id: int
    product_name: str


@dataclass(frozen=True)
class LineLabel:
    """A service line's names and yearly units (what lists and balances show of it)."""

    code: str
    name: str
    short_name: str
    entitlement: int


def home_facts() -> HomeFacts:
    """The logged-in insured's name, policy and product in one statement (404 for an account bound to nobody)."""
    who = current_user.insured_id
    row = None if who is None else db.session.execute(_FACTS, {"who": who}).one_or_none()
    if row is None:
        abort(404)
    return HomeFacts(*row)


_FACTS = (select(InsuredPerson.id, InsuredPerson.name, InsuredPerson.id_number, InsuredPerson.id_type,
                 Policy.policy_no, Policy.start_date, Policy.end_date, Product.id, Product.name)
          .join(Policy, Policy.id == InsuredPerson.policy_id).join(Product, Product.id == Policy.product_id)
          .where(InsuredPerson.id == bindparam("who")))


def product_lines(product_id: int) -> tuple[LineLabel, ...]:
    """The product's lines in order, as plain values — per process (kept on the app, as
    queue_rows.product_lines keeps its own): a product's lines are configuration, loaded with the product data
    and never edited while the portal runs."""
    kept = current_app.extensions.setdefault("insured_product_lines", {})
    found = kept.get(product_id)
    if found is None:
        found = tuple(LineLabel(*row) for row in db.session.execute(
            select(ServiceLine.code, ServiceLine.name, ServiceLine.short_name, ServiceLine.entitlement)
            .where(ServiceLine.product_id == product_id).order_by(ServiceLine.position, ServiceLine.id)))
        if found:  # nothing configured yet: ask again next time
            kept[product_id] = found
    return found


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


@dataclass(frozen=True)
class CaseCard:
    """One case as 我的服务 lists it: plain values from one row, no ORM object."""

    id: int
    ref: str
    line_code: str
    status: str
    submitted_at: datetime
    #: the promise of its first running clock with a due date, while the case is open
    promise: sla.Promise | None

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class CardPage:
    """A page of cards with what the pager macro reads (the attributes of a Flask-SQLAlchemy Pagination)."""

    items: list[CaseCard]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


#: the first running clock with a due date of the case (`state || ''`: looked up among the case's clocks, not
#: along the (state, deadline) index of every running clock)
_FIRST_RUNNING = (select(func.min(SlaClock.id)).where(SlaClock.case_id == Case.id, (SlaClock.state + "") == "running",
                                                      SlaClock.due_date.is_not(None))
                  .correlate(Case).scalar_subquery())


def my_cases_page(page: int, per_page: int = 10) -> CardPage:
    """The insured's cases, newest first: one statement for the page, its clocks' promises and the total."""
    who = current_user.insured_id
    rows = db.session.execute(_CARDS, {"who": who, "n": per_page, "skip": (page - 1) * per_page}).all()
    # past the last page (or none at all), how many there are is asked for the pager
    total = rows[0][8] if rows else db.session.scalar(select(func.count(Case.id)).where(Case.insured_id == who))
    cards = [CaseCard(r[0], r[1], r[2], r[3], r[4], sla.promise_of(r[5], r[6], r[7])
                      if r[6] is not None and r[3] in OPEN_STATUSES else None) for r in rows]
    return CardPage(cards, page, per_page, total)


#: built once (the statement's construction cost more than running it)
_CARDS = (select(Case.id, Case.ref, Case.line_code, Case.status, Case.submitted_at, SlaClock.kind, SlaClock.due_date,
                 SlaClock.provisional, func.count().over())
          .outerjoin(SlaClock, SlaClock.id == _FIRST_RUNNING).where(Case.insured_id == bindparam("who"))
          .order_by(Case.submitted_at.desc(), Case.id.desc()).limit(bindparam("n")).offset(bindparam("skip")))


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


def corrected_day(case: Case):
    """The day the insured was really seen, when a correction recorded one (issue 14); else None."""
    last = db.session.scalar(select(OutcomeCorrection).where(OutcomeCorrection.case_id == case.id)
                             .order_by(OutcomeCorrection.id.desc()).limit(1))
    return last.served_on if last is not None and last.to_outcome != "no_show" else None


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
    return db.session.scalar(_UNREAD, {"who": current_user.insured_id}) or 0


_UNREAD = (select(func.count()).select_from(Notification)
           .where(Notification.insured_id == bindparam("who"), Notification.read_at.is_(None)))


def inbox_page(page: int, per_page: int = 20):
    query = (
        select(Notification).where(Notification.insured_id == current_user.insured_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
