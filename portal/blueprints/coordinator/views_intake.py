"""Hotline intake (SPEC §1): find the caller, record the channel, check eligibility, open the case."""

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import calendar
from ...domain import consent, intake, ledger
from ...extensions import db
from ...models import Case, InsuredPerson
from ...web.render import redirect_after_post, render
from ...web.saving import save
from . import bp
from .choices import Choices
from .forms import CallerSearchForm, intake_data, intake_form


@bp.route("/intake", methods=["GET", "POST"])
def intake_search():
    """热线受理, step 1: find the caller by name + ID number or by policy number; staff.

    A POST, not a GET, so ID numbers never land in URLs, history or access logs."""
    form = CallerSearchForm()
    results, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            results = intake.find_insured(name=form.name.data, id_number=form.id_number.data,
                                          policy_no=form.policy_no.data)
        else:
            status = 422
    return render("coordinator/intake_search.html", "coordinator/_intake_search.html", status=status,
                  form=form, results=results)


def _insured_or_404(insured_id: int) -> InsuredPerson:
    insured = db.session.get(InsuredPerson, insured_id)
    if insured is None:
        abort(404)
    return insured


def _line_or_none(insured):
    return insured.policy.product.line(request.args.get("line", ""))


def _page(insured, line, form, *, status=200, results=None):
    """The intake page of one caller: lines with balances, the request form, eligibility results."""
    today = calendar.business_today()
    cases = list(db.session.scalars(select(Case).where(Case.insured_id == insured.id)
                                    .order_by(Case.id.desc()).limit(20)))
    return render("coordinator/intake_new.html", "coordinator/_intake_eligibility.html", status=status,
                  insured=insured, line=line, form=form, results=results, cases=cases,
                  balances=ledger.balances(insured, today), today=today,
                  notice=consent.current_notice("privacy"), consent_record=consent.latest(insured))


def _form(insured, line, *, bind: bool = False):
    """The line's intake form; with the verbal-consent box while the caller has no consent in effect."""
    return intake_form(line, Choices(insured.policy.product), bind=bind,
                       needs_consent=not consent.has_consent(insured))


@bp.get("/intake/<int:insured_id>")
def intake_new(insured_id):
    """热线受理, step 2: choose the service line and fill in the request for the caller; staff."""
    insured = _insured_or_404(insured_id)
    line = _line_or_none(insured)
    form = _form(insured, line) if line else None
    return _page(insured, line, form)


@bp.post("/intake/<int:insured_id>/check")
def intake_check(insured_id):
    """Run the eligibility rules on the request as typed and show each rule's result; writes nothing; staff."""
    insured = _insured_or_404(insured_id)
    line = _line_or_none(insured) or abort(404)
    form = _form(insured, line, bind=True)
    form.validate()
    results = intake.preview(insured=insured, line_code=line.code, data=intake_data(form))
    return _page(insured, line, form, results=results)


@bp.post("/intake/<int:insured_id>")
def intake_submit(insured_id):
    """Open the case on the caller's behalf; an ineligible request is kept on record as not_eligible; staff."""
    insured = _insured_or_404(insured_id)
    line = _line_or_none(insured) or abort(404)
    form = _form(insured, line, bind=True)
    if not form.validate_on_submit():
        return _page(insured, line, form, status=422)
    result = save(form, lambda: _submit(insured, line, form))
    if not result.ok:
        return _page(insured, line, form, status=result.status)
    return _opened(result.value)


def _submit(insured, line, form):
    """The caller's verbal consent (when the box was ticked), then the request; the domain refuses without it."""
    if "consent_read" in form and form.consent_read.data:
        consent.give(insured, actor=current_user, channel="hotline", ip=request.remote_addr)
    return intake.submit_request(insured=insured, line_code=line.code, data=intake_data(form),
                                 actor=current_user, channel=form.channel.data,
                                 submission_key=form.submission_key.data)


def _opened(case):
    """Tell the coordinator what happened and open the case."""
    if case.status == "terminated":
        flash(f"申请未通过核实，已登记备案（{case.ref}）。请向来电人说明原因。", "error")
    else:
        flash(f"已为来电人创建案件 {case.ref}。", "success")
    return redirect_after_post(url_for("coordinator.case_detail", case_id=case.id))
