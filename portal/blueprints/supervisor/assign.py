"""Assigning and reassigning cases (supervisors; SPEC §1)."""

from flask import flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ... import calendar
from ...domain import lifecycle, sla
from ...extensions import db
from ...models import OPEN_STATUSES, STATUSES, Case, ServiceLine
from ...web.params import PER_PAGE, id_arg, page_number, safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import Saved, save
from ..coordinator.views_common import get_case_or_404
from . import bp
from .forms import active_assignees, assign_form_for

FORM = "coordinator/admin/_assign_form.html"


def line_names() -> dict[str, str]:
    """Service-line code → short Chinese name, from product data."""
    return dict(db.session.execute(select(ServiceLine.code, ServiceLine.short_name)).all())


@bp.get("/admin/assignments")
def assignment_list():
    """Open cases to assign: unassigned ones by default, or one person's, or all; supervisors only."""
    show = request.args.get("assignee", "unassigned")
    stmt = (select(Case).where(Case.status.in_(OPEN_STATUSES))
            .options(joinedload(Case.insured), joinedload(Case.assignee), selectinload(Case.clocks)))
    if show == "unassigned":
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif show != "all":
        show = str(id_arg("assignee"))  # junk or an impossible id: 404
        stmt = stmt.where(Case.assignee_id == int(show))
    pagination = db.paginate(stmt.order_by(Case.submitted_at, Case.id), page=page_number(), per_page=PER_PAGE,
                             error_out=False)
    return render("coordinator/admin/assignment_list.html", "coordinator/admin/_assignment_results.html",
                  pagination=pagination, show=show, assignees=active_assignees(), line_names=line_names(),
                  statuses=STATUSES, current_clock=sla.current_clock, due_date=sla.effective_due_date,
                  today=calendar.business_today(), next_url=request.full_path.rstrip("?"))


@bp.post("/cases/<int:case_id>/assign")
def case_assign(case_id):
    """Assign or reassign a case to an active coordinator or supervisor; supervisors only."""
    case = get_case_or_404(case_id)
    assignees = active_assignees()
    form = assign_form_for(case, assignees)
    next_url = safe_next(url_for("supervisor.assignment_list"))
    result = _assign(case, form)
    if not result.ok:
        return _form_response(case, assignees, next_url, assign_error=result.message, status=result.status)
    if wants_fragment():
        return _form_response(case, assignees, next_url, assigned=True, trigger="case-updated")
    flash(f"已将案件 {case.ref} 分派给{case.assignee.display_name}。", "success")
    return redirect_after_post(next_url)


def _assign(case, form) -> Saved:
    """Validate and save the assignment; a refusal's message is shown above the form."""
    if not form.validate_on_submit():
        # a missing or garbled version means the page the supervisor saw cannot be checked
        error = form.assignee_id.errors[0] if form.assignee_id.errors else "页面已过期，请刷新后重试。"
        return Saved(False, status=422, message=error)
    return save(form, lambda: lifecycle.perform(case, "assign", actor=current_user, assignee_id=form.assignee_id.data,
                                                expected_version=form.version.data))


def _form_response(case, assignees, next_url, *, status=200, trigger=None, **ctx):
    """The assign form alone for htmx; a small page around it otherwise (errors without JavaScript)."""
    return render("coordinator/admin/case_assign.html", FORM, status=status, trigger=trigger, case=case,
                  assignees=assignees, next_url=next_url, **ctx)
