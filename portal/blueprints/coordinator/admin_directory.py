"""Directory screens: hospitals, overseas hospitals, escorts, experts — one set of views for every kind."""

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user

from ...domain import directory
from ...domain.errors import DomainError
from ...domain.policy_import import ImportError_
from ...extensions import db
from ...web.params import PER_PAGE, page_number, read_upload, safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp
from .admin import supervisor_required
from .admin_forms import CsvImportForm, directory_form, directory_values

ACTIVE_FILTERS = {"1": True, "0": False, "all": None}


def kind_or_404(code: str) -> directory.Kind:
    """The directory kind named in the URL."""
    kind = directory.KINDS.get(code)
    if kind is None:
        abort(404)
    return kind


def item_or_404(code: str, item_id: int):
    """One directory row of this kind (any state)."""
    item = directory.get(code, item_id)
    if item is None:
        abort(404)
    return item


def _hints(kind: directory.Kind) -> dict[str, str]:
    """Help under the fields whose values must come from product data."""
    hints = {"phone": "只能包含数字、空格和 + - ( )。"}
    if kind.code == "expert":
        cities = "、".join(directory.allowed_values("expert_cities"))
        hints["city"] = f"国内专家所在城市应为：{cities}；海外专家填写所在城市。"
    if kind.code == "hospital":
        hints["level"] = "例如 三甲。"
    return hints


@bp.get("/admin/directory/<kind>")
@supervisor_required
def directory_list(kind):
    """A directory with search and an active filter, paginated; supervisors only."""
    kind = kind_or_404(kind)
    q = request.args.get("q", "").strip()
    active = request.args.get("active", "1")
    stmt = directory.search(kind.code, q=q, active=ACTIVE_FILTERS.get(active, True))
    pagination = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render("coordinator/admin/directory_list.html", "coordinator/admin/_directory_results.html",
                  kind=kind, kinds=directory.KINDS, pagination=pagination, q=q, active=active,
                  next_url=request.full_path.rstrip("?"))


@bp.route("/admin/directory/<kind>/new", methods=["GET", "POST"])
@supervisor_required
def directory_new(kind):
    """Add a hospital, overseas hospital, escort or expert; supervisors only."""
    kind = kind_or_404(kind)
    form = directory_form(kind.code)
    if form.validate_on_submit():
        try:
            item = directory.create(kind.code, directory_values(form), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(f"已新增{kind.label}“{item.name}”。", "success")
            return redirect(url_for("coordinator.directory_list", kind=kind.code), code=303)
    return render("coordinator/admin/directory_form.html", kind=kind, kinds=directory.KINDS, form=form, item=None,
                  hints=_hints(kind), status=422 if form.is_submitted() else 200)


@bp.route("/admin/directory/<kind>/<int:item_id>/edit", methods=["GET", "POST"])
@supervisor_required
def directory_edit(kind, item_id):
    """Edit one directory row; supervisors only."""
    kind = kind_or_404(kind)
    item = item_or_404(kind.code, item_id)
    form = directory_form(kind.code, obj=item)
    if form.validate_on_submit():
        try:
            changes = directory.update(kind.code, item, directory_values(form), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(f"已保存“{item.name}”。" if changes else "没有需要保存的修改。", "success" if changes else "info")
            return redirect(url_for("coordinator.directory_list", kind=kind.code), code=303)
    return render("coordinator/admin/directory_form.html", kind=kind, kinds=directory.KINDS, form=form, item=item,
                  hints=_hints(kind), status=422 if form.is_submitted() else 200)


@bp.post("/admin/directory/<kind>/<int:item_id>/deactivate")
@supervisor_required
def directory_deactivate(kind, item_id):
    """Stop offering a directory row for new requests (kept for history); supervisors only."""
    return _set_active(kind, item_id, False)


@bp.post("/admin/directory/<kind>/<int:item_id>/reactivate")
@supervisor_required
def directory_reactivate(kind, item_id):
    """Offer a deactivated directory row again; supervisors only."""
    return _set_active(kind, item_id, True)


def _set_active(code: str, item_id: int, active: bool):
    kind = kind_or_404(code)
    item = item_or_404(kind.code, item_id)
    directory.set_active(kind.code, item, active, actor=current_user)
    db.session.commit()
    next_url = safe_next(url_for("coordinator.directory_list", kind=kind.code))
    if wants_fragment():
        return render("coordinator/admin/_directory_row.html", kind=kind, item=item, next_url=next_url)
    flash(f"已{'恢复启用' if active else '停用'}“{item.name}”。", "success")
    return redirect_after_post(next_url)


@bp.route("/admin/directory/<kind>/import", methods=["GET", "POST"])
@supervisor_required
def directory_import(kind):
    """Upsert a directory from a CSV file, all or nothing, errors by line; supervisors only."""
    kind = kind_or_404(kind)
    form = CsvImportForm()
    errors = []
    if form.validate_on_submit():
        text = read_upload(form.file.data)
        try:
            if text is None:
                raise ImportError_([(1, "无法识别文件编码，请另存为 UTF-8 编码的 CSV。")])
            result = directory.import_csv(kind.code, text, actor=current_user)
        except ImportError_ as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
            flash(f"导入完成：新增 {result.created} 条，更新 {result.updated} 条，未变化 {result.unchanged} 条。",
                  "success")
            return redirect(url_for("coordinator.directory_list", kind=kind.code), code=303)
    return render("coordinator/admin/directory_import.html", kind=kind, kinds=directory.KINDS, form=form,
                  errors=errors, allowed_values=directory.allowed_values,
                  status=422 if form.is_submitted() else 200)


@bp.get("/admin/directory/<kind>/template.csv")
@supervisor_required
def directory_template(kind):
    """An empty CSV with the right header, to fill in and import; supervisors only."""
    kind = kind_or_404(kind)
    # the BOM lets Excel open the UTF-8 file with Chinese intact
    response = make_response("\ufeff" + ",".join(kind.names) + "\r\n")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{kind.code}.csv"'
    return response
