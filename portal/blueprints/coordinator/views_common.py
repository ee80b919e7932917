"""What the casework views share: loading a case for staff, the workspace context."""

from collections import defaultdict
from decimal import Decimal

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import calendar
from ...domain import history, ledger, lifecycle, lines, sla
from ...domain.documents import active_documents, kind_label, missing_kinds
from ...domain.handlers.base import hours_text
from ...domain.product_data import REPORT_KINDS
from ...extensions import db
from ...models import (
    Appointment,
    Bill,
    Case,
    DocumentRequest,
    EscortAssignment,
    EscortHourLog,
    Policy,
    VisaApplication,
)
from ...web import action_ui
from ...web.saving import RESENT_MESSAGE, STALE_MESSAGE
from .action_forms import ActionForm, action_form
from .choices import Choices, escort_window
from .forms import ReviewForm, StaffUploadForm

#: a coordinator lost the race for a case to a colleague (issue 18): not a permission problem to them
TAKEN_MESSAGE = "该案件刚被其他同事接手或更新，您的操作未执行；请查看最新情况。"


def get_case_or_404(case_id: int) -> Case:
    """Any case, for 英仕 staff (the blueprint gate already admits only them); lifecycle checks who may act."""
    case = db.session.scalar(select(Case).where(Case.id == case_id).options(
        selectinload(Case.insured), selectinload(Case.policy).selectinload(Policy.product),
        selectinload(Case.clocks), selectinload(Case.documents), selectinload(Case.assignee)))
    if case is None:
        abort(404)
    return case


def get_case_for_write_or_403(case_id: int) -> Case:
    """The case, when the current user may change it: supervisors any, a coordinator their own or an
    unassigned one (acting assigns it to them); a colleague's case answers 403 before any validation."""
    case = get_case_or_404(case_id)
    if current_user.role == "coordinator" and case.assignee_id not in (None, current_user.id):
        if _seen_before_change(case):  # the page showed the case before a colleague took it: a lost race
            from ...web.render import render

            abort(render("coordinator/case_detail.html", "coordinator/_case_workspace.html", status=409,
                         **workspace(case, message=TAKEN_MESSAGE)))
        abort(403)
    return case


def _seen_before_change(case: Case) -> bool:
    """The form carries the version the user saw (`version` or `<prefix>-version`), older than the case's."""
    for name, value in request.form.items():
        if name == "version" or name.endswith("-version"):
            try:
                return int(value) < case.version
            except ValueError:
                return False
    return False


def next_step(case, user) -> lines.ActionSpec | None:
    """The action that moves the case on, as offered to this user now."""
    return next((s for s in lifecycle.iter_available_actions(case, user) if not action_ui.is_side(s.code)), None)


def workspace(case, *, bound=None, message: str | None = None) -> dict:
    """Everything the case workspace shows; `bound` is a submitted form to show with its errors."""
    today = calendar.business_today()
    choices = Choices(case.policy.product)
    specs = lifecycle.available_actions(case, current_user)
    forms = {spec.code: action_form(spec, case, choices) for spec in specs}
    if isinstance(bound, ActionForm) and bound.action_code in forms:
        forms[bound.action_code] = bound
    panels = defaultdict(list)
    for spec in specs:
        panels[action_ui.panel_of(spec.code, case.line_code)].append(spec)
    documents = active_documents(case)
    review_forms = {d.id: ReviewForm(formdata=None, prefix=f"doc{d.id}-", version=case.version)
                    for d in documents if d.kind not in REPORT_KINDS}
    if isinstance(bound, ReviewForm):
        review_forms[bound.document_id] = bound
    upload_form = bound if isinstance(bound, StaffUploadForm) else \
        StaffUploadForm(formdata=None, prefix="upload-", version=case.version)
    line = case.policy.product.line(case.line_code)
    return {
        "case": case, "line": line, "today": today, "message": message, "bound": bound,
        "forms": forms, "panels": panels,
        "stale": bool({STALE_MESSAGE, RESENT_MESSAGE} & set(getattr(bound, "form_errors", ()))),
        "next_spec": next((s for s in specs if not action_ui.is_side(s.code)), None),
        "milestones": lines.MILESTONES[case.line_code],
        "milestone_codes": lines.milestone_codes(case.line_code),
        "clocks": [(clock, sla.clock_label(clock.kind), sla.working_days_left(clock, today),
                    sla.effective_due_date(clock, today)) for clock in case.clocks],
        "events": history.timeline(case, include_internal=True),
        "documents": documents, "review_forms": review_forms, "upload_form": upload_form,
        "required_kinds": [(k, kind_label(k)) for k in (line.required_documents if line else [])],
        "missing": set(missing_kinds(case)),
        "requests": list(db.session.scalars(select(DocumentRequest).where(DocumentRequest.case_id == case.id)
                                            .order_by(DocumentRequest.id.desc()))),
        "balances": ledger.balances(case.insured, today),
        "termination": lines.TERMINATION_REASONS.get(case.termination_reason),
        "line_panels": action_ui.LINE_PANELS.get(case.line_code, ()),
        "kind_label": kind_label, "report_kinds": REPORT_KINDS, "hours_text": hours_text,
        **_line_data(case, choices),
    }


def _line_data(case, choices: Choices) -> dict:
    """The rows the line's panels show (appointments, roster, visa, hours, bills)."""
    code, data = case.line_code, {}
    if code in lines.GREEN:
        data["appointments"] = _rows(Appointment, case, options=[selectinload(Appointment.hospital)])
    if code == "domestic_escort":
        data["escort_window"] = escort_window(case)
        data["roster"] = choices.roster(case) if case.city else []
        data["escort_assignments"] = _rows(EscortAssignment, case, options=[selectinload(EscortAssignment.escort)])
    if code == "overseas_treatment":
        data["visas"] = _rows(VisaApplication, case)
        hours = _rows(EscortHourLog, case)
        used = sum((h.hours for h in hours if h.voided_at is None), Decimal(0))  # a voided entry no longer counts
        data.update(hour_logs=hours, hours_used=used, hours_cap=lines.ESCORT_HOURS_CAP,
                    hours_left=Decimal(lines.ESCORT_HOURS_CAP) - used)
        bills = _rows(Bill, case)
        totals = defaultdict(Decimal)
        for bill in bills:
            if bill.voided_at is None:
                totals[bill.currency] += bill.amount
        data.update(bills=bills, bill_totals=sorted(totals.items()), bill_statuses=lines.BILL_STATUSES)
    if code in lines.DELIVERABLES:
        data["reports"] = [d for d in active_documents(case) if d.kind in REPORT_KINDS]
    return data


def _rows(model, case, *, options=()):
    return list(db.session.scalars(select(model).where(model.case_id == case.id).options(*options)
                                   .order_by(model.id)))
