"""申请服务: choose a line, fill in the form shaped for it, see eligibility at once, submit."""

from flask import flash, request, url_for
from flask_login import current_user

from ... import calendar
from ...domain import documents, intake, ledger, sla
from ...domain.product_data import LINE_TERMS
from ...web.render import redirect_after_post, render
from ...web.saving import save
from . import bp
from .forms import apply_form_for, upload_rule
from .queries import hospitals_in, line_or_404, my_insured


@bp.get("/apply")
def apply_choose():
    """申请服务: the six service lines with the units left this policy year; the insured only."""
    insured = my_insured()
    balances = {b.line_code: b for b in ledger.balances(insured, calendar.business_today())}
    response = render("insured/apply_choose.html", lines=insured.policy.product.lines, balances=balances,
                      clock_label=sla.clock_label)
    return response


@bp.get("/apply/<line_code>")
def apply_form(line_code):
    """The request form of one line (a `city` argument preselects the city); the insured only."""
    line = line_or_404(line_code)
    return _page(line, _form(line, city=request.args.get("city", "")))


@bp.get("/apply/<line_code>/hospitals")
def apply_hospitals(line_code):
    """The hospital field filtered by `city` (htmx), or the whole form with that city; the insured only."""
    line = line_or_404(line_code)
    return _page(line, _form(line, city=request.args.get("city", "")), fragment="insured/_hospital_field.html")


@bp.post("/apply/<line_code>/check")
def apply_check(line_code):
    """Inline eligibility of the answers so far, one plain sentence per failed rule; writes nothing."""
    line = line_or_404(line_code)
    form = _form(line)
    results = intake.preview(insured=my_insured(), line_code=line.code, data=form.domain_data())
    return _page(line, form, results=results, fragment="insured/_eligibility.html")


@bp.post("/apply/<line_code>")
def apply_submit(line_code):
    """Submit the request: eligible → a case with its promise; not eligible → kept on record with the reasons."""
    line = line_or_404(line_code)
    form = _form(line)
    if not form.validate_on_submit():
        return _page(line, form, status=422)
    result = save(form, lambda: _submit(line, form), field="diagnosis")
    if not result.ok:
        return _page(line, form, status=result.status)
    return _submitted(result.value)


def _submit(line, form):
    """Open the case (kept on record as not_eligible when a rule fails) and file the admission slip."""
    case = intake.submit_request(insured=my_insured(), line_code=line.code, data=form.domain_data(),
                                 actor=current_user, channel="portal", submission_key=form.submission_key.data)
    if _has_file(form, "admission_slip") and not case.is_repeat:  # a repeat stores nothing more
        documents.save_upload(case, form.admission_slip.data, kind="admission_slip", actor=current_user)
    return case


def _submitted(case):
    """Tell the insured what happened and show the case."""
    if case.status == "terminated":
        flash("很抱歉，本次申请未能通过核实，原因见下方；我们已登记备案。", "error")
    else:
        flash(f"申请已提交，编号 {case.ref}。请尽快上传所需资料。", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id))


def _has_file(form, name: str) -> bool:
    return name in form and bool(getattr(form[name].data, "filename", None))


def _form(line, **data):
    """The line's form, its hospital list filtered by the city chosen so far."""
    form = apply_form_for(line, line.product, **data)
    if "city" in form:
        form.set_hospitals(hospitals_in(form.city.data))
    return form


def _page(line, form, *, results=None, fragment=None, status=200):
    """The form page (or one of its fragments) with what it shows around the questions."""
    remaining = ledger.remaining(my_insured(), line.code, calendar.business_today())
    return render("insured/apply_form.html", fragment, status=status, line=line, form=form, results=results,
                  remaining=remaining, upload_rule=upload_rule(), today=calendar.business_today().isoformat(),
                  terms=LINE_TERMS.get(line.code, []))
