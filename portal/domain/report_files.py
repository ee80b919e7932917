"""The weekly report as a file: the XLSX 史带 downloads and receives by e-mail (SPEC §6)."""

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from .. import calendar
from .reports import report_rows

TITLE = "英仕每周服务进度报告"
BOLD = Font(bold=True)


def local_text(ts: datetime | None) -> str:
    """A UTC timestamp as Beijing time, e.g. 2026-11-30 09:00:00 ("" for none)."""
    return ts.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def report_info(report) -> list[list]:
    """Who built which week when: the first lines of every download."""
    return [
        [TITLE, report.week, f"第 {report.version} 版"],
        ["统计期间", report.data["start_date"], report.data["end_date"]],
        ["生成时间（北京时间）", local_text(report.built_at), "生成者", report.built_by],
    ]


def weekly_xlsx(report) -> bytes:
    """One sheet of report information, then one sheet per section with its header row."""
    book = Workbook()
    info = book.active
    info.title = "报告信息"
    for row in report_info(report):
        info.append(row)
    info.column_dimensions["A"].width = 24
    for section in report_rows(report):
        sheet = book.create_sheet(section.title[:31])
        sheet.append([section.title, report.week])
        sheet.append(list(section.header))
        for cell in (*sheet[1], *sheet[2]):
            cell.font = BOLD
        for row in section.rows:
            sheet.append(row)
        for column in "ABCDEFGHIJK"[:len(section.header)]:
            sheet.column_dimensions[column].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
