"""Directory screens: hospitals, overseas hospitals, escorts, experts — one set of views for every kind."""

from functools import partial

from flask import abort, flash, make_response, redirect, request, url_for

from ...domain import directory
from ...extensions import db
from ...web.audit import who
from ...web.params import PER_PAGE, page_number, safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import form_status, save
from . import bp
from .forms import CsvImportForm, directory_form, directory_values
from .imports import run_import

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
        hints["hospital_grade"] = "国内第二诊疗意见只能指派三甲医院专家，请填写 三甲。"
    if kind.code == "hospital":
        hints["level"] = "例如 三甲。"
    return hints


@bp.get("/admin/directory/<kind>")
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
def directory_new(kind):
    """Add a hospital, overseas hospital, escort or expert; supervisors only."""
    kind = kind_or_404(kind)
    form = directory_form(kind.code)
    create = partial(directory.create, kind.code, directory_values(form), **who())
    if form.validate_on_submit() and (result := save(form, create, field="name")).ok:
        flash(f"已新增{kind.label}“{result.value.name}”。", "success")
        return redirect(url_for("supervisor.directory_list", kind=kind.code), code=303)
    return _form_page(kind, form, None)


@bp.route("/admin/directory/<kind>/<int:item_id>/edit", methods=["GET", "POST"])
def directory_edit(kind, item_id):
    """Edit one directory row; supervisors only."""
    kind = kind_or_404(kind)
    item = item_or_404(kind.code, item_id)
    form = directory_form(kind.code, obj=item)
    update = partial(directory.update, kind.code, item, directory_values(form), **who())
    if form.validate_on_submit() and (result := save(form, update, field="name")).ok:
        changed = result.value
        flash(f"已保存“{item.name}”。" if changed else "没有需要保存的修改。", "success" if changed else "info")
        return redirect(url_for("supervisor.directory_list", kind=kind.code), code=303)
    return _form_page(kind, form, item)


def _form_page(kind, form, item):
    return render("coordinator/admin/directory_form.html", kind=kind, kinds=directory.KINDS, form=form, item=item,
                  hints=_hints(kind), status=form_status(form))


@bp.post("/admin/directory/<kind>/<int:item_id>/deactivate")
def directory_deactivate(kind, item_id):
    """Stop offering a directory row for new requests (kept for history); supervisors only."""
    return _set_active(kind, item_id, False)


@bp.post("/admin/directory/<kind>/<int:item_id>/reactivate")
def directory_reactivate(kind, item_id):
    """Offer a deactivated directory row again; supervisors only."""
    return _set_active(kind, item_id, True)


def _set_active(code: str, item_id: int, active: bool):
    kind = kind_or_404(code)
    item = item_or_404(kind.code, item_id)
    directory.set_active(kind.code, item, active, **who())
    db.session.commit()
    next_url = safe_next(url_for("supervisor.directory_list", kind=kind.code))
    if wants_fragment():
        return render("coordinator/admin/_directory_row.html", kind=kind, item=item, next_url=next_url)
    flash(f"已{'恢复启用' if active else '停用'}“{item.name}”。", "success")
    return redirect_after_post(next_url)


@bp.route("/admin/directory/<kind>/import", methods=["GET", "POST"])
def directory_import(kind):
    """Upsert a directory from a CSV file, all or nothing, errors by line; supervisors only."""
    kind = kind_or_404(kind)
    form = CsvImportForm()
    result, errors = run_import(form, lambda text: directory.import_csv(kind.code, text, **who()))
    if result:
        flash(f"导入完成：新增 {result.created} 条，更新 {result.updated} 条，未变化 {result.unchanged} 条。",
              "success")
        return redirect(url_for("supervisor.directory_list", kind=kind.code), code=303)
    return render("coordinator/admin/directory_import.html", kind=kind, kinds=directory.KINDS, form=form,
                  errors=errors, allowed_values=directory.allowed_values, status=form_status(form))


@bp.get("/admin/directory/<kind>/template.csv")
def directory_template(kind):
    """An empty CSV with the right header, to fill in and import; supervisors only."""
    kind = kind_or_404(kind)
    # the BOM lets Excel open the UTF-8 file with Chinese intact
    response = make_response("\ufeff" + ",".join(kind.names) + "\r\n")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{kind.code}.csv"'
    return response
