"""Weekly progress reports (英仕每周服务进度报告, SPEC §6): list, detail, XLSX and CSV; reads are logged."""

from flask import Response

from ...domain.reports import report_rows
from ...extensions import db
from ...web.audit import record
from ...web.params import page_number
from ...web.render import render
from . import bp, exports, queries


@bp.get("/weekly")
def weekly_list():
    """Every stored version of every weekly report, newest first; auditors only."""
    reports = queries.weekly_reports(page_number())
    return render("auditor/weekly_list.html", "auditor/_weekly_results.html", reports=reports,
                  latest=queries.latest_versions())


@bp.get("/weekly/<int:report_id>")
def weekly_detail(report_id):
    """One stored report version exactly as built, with the other versions of its week."""
    report = queries.get_report_or_404(report_id)
    record("weekly_report.view", obj=report, detail={"week": report.week, "version": report.version})
    db.session.commit()
    return render("auditor/weekly_detail.html", report=report, sections=report_rows(report),
                  versions=queries.versions_of(report.week))


def _download(report, fmt: str, body, mimetype: str) -> Response:
    record("weekly_report.download", obj=report,
           detail={"week": report.week, "version": report.version, "format": fmt})
    db.session.commit()
    response = Response(body, mimetype=mimetype)
    name = f"weekly-{report.week}-v{report.version}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/weekly/<int:report_id>/report.xlsx")
def weekly_xlsx(report_id):
    """The stored report as an Excel workbook (openpyxl)."""
    report = queries.get_report_or_404(report_id)
    return _download(report, "xlsx", exports.weekly_xlsx(report),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/weekly/<int:report_id>/report.csv")
def weekly_csv(report_id):
    """The stored report as CSV (UTF-8 with BOM)."""
    report = queries.get_report_or_404(report_id)
    return _download(report, "csv", exports.weekly_csv(report), "text/csv")
