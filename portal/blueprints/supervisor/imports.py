"""The all-or-nothing import of an uploaded CSV, shared by the directory and policy-register screens."""

from ...domain.policy_import import ImportError_
from ...extensions import db
from ...web.params import read_upload


def run_import(form, importer):
    """On a valid upload, `importer(text)` all or nothing: (its result, []) committed, or (None, errors by
    line) rolled back; (None, []) when nothing valid was posted."""
    if not form.validate_on_submit():
        return None, []
    text = read_upload(form.file.data)
    try:
        if text is None:
            raise ImportError_([(1, "无法识别文件编码，请另存为 UTF-8 编码的 CSV。")])
        result = importer(text)
    except ImportError_ as error:
        db.session.rollback()
        return None, error.errors
    db.session.commit()
    return result, []
