"""Reading what a request carries, safely: `next=` targets, page numbers, ids, cursors and uploads.

Every blueprint goes through these helpers, so a crafted value gets a 404 or the first page,
never an open redirect or a 500 (an OverflowError from SQLite, a DataError from PostgreSQL).
"""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

PER_PAGE = 25
#: the largest primary key the schema can hold (INTEGER on PostgreSQL); a larger id names nothing
MAX_ID = 2**31 - 1
#: no list has this many pages; a larger number is a probe, not a reader paging on
MAX_PAGE = 100_000
_DIGITS = re.compile(r"[0-9]{1,12}")


# ---- next= --------------------------------------------------------------------------------------

def clean_next(target: str | None) -> str | None:
    """`target` if it is a same-origin relative path after normalising it as a browser would; else None.

    Browsers drop tabs and newlines inside URLs, read `\\` as `/`, and some decode `%2F`; so
    `/%09/evil.example/`, `/\\evil`, `\\\\evil` and `%2F%2Fevil` all mean `//evil` to them.
    """
    if not target:
        return None
    candidate = target.strip()
    decoded = unquote(unquote(candidate))  # what a lenient browser or proxy might see
    for form in (candidate, decoded):
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in form):
            return None
        normalised = form.replace("\\", "/")
        if not normalised.startswith("/") or normalised.startswith("//"):
            return None
        parts = urlsplit(normalised)
        if parts.scheme or parts.netloc:
            return None
    return candidate


def safe_next(default: str, target: str | None = None) -> str:
    """The `next` path (given, or from the form or query) if it stays on this site; `default` otherwise."""
    if target is None:
        target = request.form.get("next") or request.args.get("next")
    return clean_next(target) or default


# ---- numbers, ids, cursors ----------------------------------------------------------------------

def parse_int(value, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`value` as an int in [low, high]; None for anything else (empty, junk, signs, huge)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if low <= value <= high else None
    text = (value or "").strip() if isinstance(value, str) else ""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def page_number(name: str = "page") -> int:
    """The ?page= argument: 1 when missing or not a number; 404 when beyond any real list."""
    raw = request.args.get(name, "").strip()
    if not raw or not raw.isascii() or not raw.isdigit():
        return 1
    number = parse_int(raw, high=MAX_PAGE)
    if number is None:
        if int(raw) > MAX_PAGE:
            abort(404)
        return 1  # page=0
    return number


def id_arg(name: str) -> int | None:
    """An optional id in the query string: None when absent or empty; 404 when junk or out of range."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    number = parse_int(raw)
    if number is None:
        abort(404)
    return number


def id_or_none(value) -> int | None:
    """WTForms `coerce` for an id select: None for empty; ValueError (an invalid choice) for junk or huge ids."""
    if value in (None, "", "None"):
        return None
    number = parse_int(value if isinstance(value, int) else str(value))
    if number is None:
        raise ValueError("not an id")
    return number


def cursor_id(value: str) -> int:
    """The id inside a keyset cursor; a junk or impossible one is a 404."""
    number = parse_int(value)
    if number is None:
        abort(404)
    return number


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route, refusing ids no row can have: such a URL is a 404, not an OverflowError."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def init_params(app: Flask) -> None:
    """Install the bounded `int` converter; call before any blueprint is registered."""
    app.url_map.converters["int"] = BoundedIntConverter


# ---- uploads -------------------------------------------------------------------------------------

def read_upload(file_storage) -> str | None:
    """The text of an uploaded CSV/JSON: UTF-8 (with or without BOM), else GBK as Excel saves it; None if neither."""
    raw = file_storage.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
