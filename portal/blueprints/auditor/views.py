"""Auditor views (GET only): dashboard, cases, documents, delivered reports, audit log."""

from flask import send_file
from flask_login import current_user

from ... import calendar
from ...domain import checkpoints, history, sla
from ...extensions import db
from ...models import utcnow
from ...web.audit import record
from ...web.files import audited_document_response
from ...web.params import page_number
from ...web.render import render
from . import bp, exports, queries
from .forms import CaseFilterForm, IdNumberSearchForm, LogFilterForm, ReportFilterForm
from .overview import current_overview


@bp.get("/")
def dashboard():
    """Per-line volumes, SLA compliance, breaches, at-risk cases and trends; auditors only."""
    return render("auditor/dashboard.html", view=current_overview(utcnow()), latest=queries.latest_report(),
                  refresh_seconds=60)


@bp.get("/cases")
def case_list():
    """Search and list every case, ID numbers masked; htmx swaps the results only."""
    form = CaseFilterForm()
    if not form.validate():
        return render("auditor/case_list.html", "auditor/_case_results.html", form=form, cases=None,
                      id_form=IdNumberSearchForm(formdata=None)), 422
    cases = queries.search_cases(**form.args(), page=page_number())
    return render("auditor/case_list.html", "auditor/_case_results.html", form=form, cases=cases,
                  id_form=IdNumberSearchForm(formdata=None))


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    """One case: facts, clocks, services, documents, full timeline and its audit-chain status."""
    case = queries.get_case_or_404(case_id)
    record("case.view", obj=case, case_id=case.id)
    db.session.commit()
    return render("auditor/case_detail.html", case=case,
                  events=history.timeline(case, include_internal=True),
                  chain=history.verify(case_id=case.id), anchor=checkpoints.anchoring(case.id),
                  services=queries.case_services(case), steps=sla.step_times(case, calendar.business_today()))


@bp.get("/cases/<int:case_id>/export.zip")
def case_export(case_id):
    """The case file as a ZIP (history CSV, clocks, bills, documents, reports); logged case.export."""
    case = queries.get_case_or_404(case_id)
    now = utcnow()
    archive, included = exports.case_zip(
        case, events=history.timeline(case, include_internal=True), services=queries.case_services(case),
        chain=history.verify(case_id=case.id), exported_by=current_user.display_name, now=now)
    record("case.export", obj=case, case_id=case.id, detail={"files": len(included), "document_ids": included})
    db.session.commit()
    response = send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=f"case-{case.ref}.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"  # every document of a case: no cache may keep it
    return response


@bp.get("/documents/<int:document_id>")
def document_view(document_id):
    """Open a document or report in the browser; every view is written to the audit log."""
    document = queries.get_document_or_404(document_id)
    return audited_document_response(document)


@bp.get("/reports")
def report_list():
    """Second-opinion and overseas-treatment reports (with bills) delivered to 史带 (SPEC §6)."""
    form = ReportFilterForm()
    if not form.validate():
        return render("auditor/report_list.html", "auditor/_report_results.html", form=form, reports=None), 422
    reports = queries.delivered_reports(**form.args(), page=page_number())
    bills = queries.bills_by_case([d.case_id for d in reports.items if d.case.line_code == "overseas_treatment"])
    return render("auditor/report_list.html", "auditor/_report_results.html", form=form, reports=reports,
                  bills=bills)


@bp.get("/log")
def log_list():
    """The audit log: who read or exported what, and refused write attempts."""
    form = LogFilterForm()
    if not form.validate():
        return render("auditor/log_list.html", "auditor/_log_results.html", form=form, entries=None), 422
    entries, names, refs = queries.audit_entries(**form.args(), page=page_number())
    return render("auditor/log_list.html", "auditor/_log_results.html", form=form, entries=entries,
                  names=names, refs=refs)
