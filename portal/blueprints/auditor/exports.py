"""Files the auditor downloads: the weekly report as XLSX / CSV, one case as a ZIP."""

import io
import tempfile
import zipfile
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from ... import calendar
from ...domain import documents
from ...domain.identity import mask_id
from ...domain.product_data import REPORT_KINDS
from ...domain.reports import report_rows, service_lines
from ...models import CONSENT_CHANNELS
from ...web.cells import csv_text, safe_row
from .labels import CLOCK_OUTCOMES, ROLES, action_label, labels

TITLE = "英仕每周服务进度报告"
BOLD = Font(bold=True)


def _local(ts: datetime | None) -> str:
    return ts.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def report_info(report) -> list[list]:
    """Who built which week when: the first lines of every download."""
    return [
        [TITLE, report.week, f"第 {report.version} 版"],
        ["统计期间", report.data["start_date"], report.data["end_date"]],
        ["生成时间（北京时间）", _local(report.built_at), "生成者", report.built_by],
    ]


def weekly_xlsx(report) -> bytes:
    """One sheet of report information, then one sheet per section with its header row."""
    book = Workbook()
    info = book.active
    info.title = "报告信息"
    for row in report_info(report):
        info.append(safe_row(row))
    info.column_dimensions["A"].width = 24
    for section in report_rows(report):
        sheet = book.create_sheet(section.title[:31])
        sheet.append(safe_row([section.title, report.week]))
        sheet.append(safe_row(section.header))
        for cell in (*sheet[1], *sheet[2]):
            cell.font = BOLD
        for row in section.rows:
            sheet.append(safe_row(row))
        for column in "ABCDEFGHIJK"[:len(section.header)]:
            sheet.column_dimensions[column].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def weekly_csv(report) -> str:
    """The same sections one after the other; BOM so Excel reads the Chinese as UTF-8."""
    rows = list(report_info(report))
    for section in report_rows(report):
        rows += [[], [section.title], section.header, *section.rows]
    return csv_text(rows)


HISTORY_HEADER = ["序号", "时间（北京时间）", "操作人", "角色", "操作", "状态变化", "摘要", "内部", "hash", "prev_hash"]


def history_csv(events) -> str:
    """seq, time, actor, role, action, from → to, summary, hash — the chain can be rechecked from it."""
    rows = [HISTORY_HEADER]
    statuses = labels()["statuses"]
    for e in events:
        change = f"{statuses.get(e.from_status, e.from_status or '')} → {statuses.get(e.to_status, e.to_status)}" \
            if e.to_status and e.to_status != e.from_status else ""
        rows.append([e.seq, _local(e.at), e.actor_name, ROLES.get(e.actor_role, e.actor_role),
                     action_label(e.action), change, e.summary, "是" if e.internal else "", e.hash, e.prev_hash])
    return csv_text(rows)


def _table(header: list[str], rows: list[list]) -> str:
    return csv_text([header, *rows])


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_")


def case_zip(case, *, events, services, chain, exported_by: str, now: datetime):
    """The whole file of one case: summary, history, clocks, bills, documents and reports. Returns
    (file object positioned at 0, ids of the documents included — the audit entry lists them)."""
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    missing, restricted, included = [], [], []
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("history.csv", history_csv(events))
        archive.writestr("clocks.csv", _table(
            ["时限", "工作日", "起算日", "应完成日期", "停止时间", "结果", "曾超时"],
            [[labels()["clocks"].get(c.kind, c.kind), c.days, c.start_date or "", c.due_date or "",
              _local(c.stopped_at), CLOCK_OUTCOMES.get(c.outcome, c.outcome or ""), "是" if c.breached else ""]
             for c in case.clocks]))
        if services["bills"]:
            archive.writestr("bills.csv", _table(
                ["医院", "账单日期", "币种", "金额", "状态"],
                [[b.hospital_name, b.bill_date, b.currency, f"{b.amount:.2f}", labels()["bills"].get(b.status)]
                 for b in services["bills"]]))
        for document in case.documents:
            path = documents.path_of(document)
            folder = "reports" if document.kind in REPORT_KINDS else "documents"
            if document.restricted_at is not None:
                restricted.append(document.original_name)
                continue
            if not path.is_file():
                missing.append(document.original_name)
                continue
            archive.write(path, f"{folder}/{document.id}_{_safe(document.original_name)}")
            included.append(document.id)
        transfers = services.get("transfers") or []
        archive.writestr("transfers.csv", _table(
            ["时间（北京时间）", "接收方", "国家", "资料", "依据的同意记录", "同意时间", "同意渠道", "记录人"],
            [[_local(t.at), t.recipient, t.country, "、".join(f"{d['label']}（{d['name']}）" for d in t.documents),
              t.consent_id, _local(t.consent.at), CONSENT_CHANNELS.get(t.consent.channel, t.consent.channel),
              t.consent.actor_name] for t in transfers]))
        archive.writestr("case.txt", _summary(case, chain, missing, exported_by, now, restricted))
    spool.seek(0)
    return spool, included


def _summary(case, chain, missing: list[str], exported_by: str, now: datetime, restricted=()) -> str:
    lines = [
        f"案件编号：{case.ref}",
        f"服务项目：{dict(service_lines()).get(case.line_code, case.line_code)}",
        f"状态：{case.status_label}",
        f"被保险人：{case.insured.name}（证件 {mask_id(case.insured.id_number, case.insured.id_type)}）",
        f"保单号：{case.policy.policy_no}",
        f"提交时间：{_local(case.submitted_at)}",
        f"结案时间：{_local(case.closed_at)}",
        f"终止原因：{labels()['reasons'].get(case.termination_reason, case.termination_reason or '')}",
        f"记录链校验：{'通过' if chain.ok else '发现问题'}（已检查 {chain.checked} 条）",
        *(f"  第 {b.seq} 条（事件 {b.event_id}）：{b.problem}" for b in chain.broken),
        f"导出：{exported_by}，{_local(now)}（北京时间）",
    ]
    if missing:
        lines.append("存储中缺失的文件：" + "、".join(missing))
    if restricted:
        lines.append("已限制处理、未导出的文件：" + "、".join(restricted))
    return "\n".join(lines) + "\n"
