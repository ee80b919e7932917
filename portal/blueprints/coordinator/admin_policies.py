"""Policy register import from the insurer's CSV (supervisors; SPEC §8 `policies import`)."""

from flask import flash, redirect, url_for
from flask_login import current_user

from ...domain.policy_import import COLUMNS, REQUIRED, ImportError_, import_policies
from ...extensions import db
from ...web.params import read_upload
from ...web.render import render
from . import bp
from .admin import supervisor_required
from .admin_forms import CsvImportForm


@bp.route("/admin/policies/import", methods=["GET", "POST"])
@supervisor_required
def policy_import():
    """Upsert policies and insured people from CSV; any bad line and nothing is written; supervisors only."""
    form = CsvImportForm()
    errors = []
    if form.validate_on_submit():
        text = read_upload(form.file.data)
        try:
            if text is None:
                raise ImportError_([(1, "无法识别文件编码，请另存为 UTF-8 编码的 CSV。")])
            result = import_policies(text, actor=current_user, source=form.file.data.filename)
        except ImportError_ as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
            flash(f"导入完成：新增保单 {result.policies_created}，更新保单 {result.policies_updated}，"
                  f"新增被保险人 {result.insured_created}，更新被保险人 {result.insured_updated}。", "success")
            return redirect(url_for("coordinator.policy_import"), code=303)
    return render("coordinator/admin/policy_import.html", form=form, errors=errors, columns=COLUMNS,
                  required=REQUIRED, status=422 if form.is_submitted() else 200)
