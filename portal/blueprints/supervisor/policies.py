"""Policy register import from the insurer's CSV (supervisors; SPEC §8 `policies import`)."""

from flask import flash, redirect, url_for

from ...domain.policy_import import COLUMNS, REQUIRED, import_policies
from ...web.audit import who
from ...web.render import render
from ...web.saving import form_status
from . import bp
from .forms import CsvImportForm
from .imports import run_import


@bp.route("/admin/policies/import", methods=["GET", "POST"])
def policy_import():
    """Upsert policies and insured people from CSV; any bad line and nothing is written; supervisors only."""
    form = CsvImportForm()
    result, errors = run_import(form, lambda text: import_policies(text, **who(),
                                                                   source=form.file.data.filename))
    if result:
        flash(f"导入完成：新增保单 {result.policies_created}，更新保单 {result.policies_updated}，"
                  f"新增被保险人 {result.insured_created}，更新被保险人 {result.insured_updated}。", "success")
        return redirect(url_for("supervisor.policy_import"), code=303)
    return render("coordinator/admin/policy_import.html", form=form, errors=errors, columns=COLUMNS,
                  required=REQUIRED, status=form_status(form))
