"""Audit checkpoints for 史带 (SPEC §7 "Audit", issue 16): the public key, every signed checkpoint with its
receipt, and a check of the receipts 史带 kept. The check is the auditor's one POST: it reads the uploaded
receipts and writes nothing but its own audit-log row (portal.web.access.AUDITOR_READ_POSTS)."""

from flask import Response, request

from ... import audit_keys
from ...domain import checkpoints
from ...extensions import db
from ...web.audit import record
from ...web.render import render
from . import bp, queries
from .forms import ReceiptCheckForm


def _page(form, result=None, status: int = 200):
    return render("auditor/integrity.html", "auditor/_integrity_result.html", status=status, form=form,
                  result=result, checkpoints=queries.checkpoints(request.args.get("page", 1, type=int) or 1),
                  public_key=audit_keys.public_hex(), public_pem=audit_keys.public_pem(),
                  key_id=audit_keys.key_id())


@bp.get("/integrity")
def integrity():
    """英仕's public key, every signed checkpoint (receipts to download) and the receipt check form."""
    return _page(ReceiptCheckForm())


@bp.get("/integrity/checkpoints/<int:checkpoint_id>.json")
def receipt_download(checkpoint_id):
    """One checkpoint's signed receipt (JSON) — what 史带 keeps outside 英仕's database."""
    checkpoint = queries.get_checkpoint_or_404(checkpoint_id)
    response = Response(checkpoints.receipt_json(checkpoint), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="checkpoint-{checkpoint.id:06d}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/integrity/verify")
def receipt_verify():
    """Check every chain against the uploaded receipts; the result in plain Chinese, logged, nothing stored."""
    form = ReceiptCheckForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    result = checkpoints.verify_receipts(form.receipts_data)
    record("receipt.verify", detail={"checkpoints": [r["checkpoint"] for r in form.receipts_data],
                                     "ok": result.ok, "result": result.summary()[:200]})
    db.session.commit()
    return _page(ReceiptCheckForm(formdata=None), result=result)
