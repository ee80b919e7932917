"""Reading request parameters safely: the page number, a same-site `next`, an uploaded text file; and
the all-or-nothing import of one.

(Kept apart from the views so the i13 `portal/web/params.py` can take them over in one move.)
"""

from flask import request

from ...domain.policy_import import ImportError_
from ...extensions import db

PER_PAGE = 25


def safe_next(default: str) -> str:
    """The `next` path from the form or query, if it stays on this site; `default` otherwise."""
    target = (request.form.get("next") or request.args.get("next") or "").strip()
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def page_number() -> int:
    """The ?page= argument, 1 when missing or nonsense."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def read_upload(file_storage) -> str | None:
    """The text of an uploaded CSV/JSON: UTF-8 (with or without BOM), else GBK as Excel saves it; None if neither."""
    raw = file_storage.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None



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
