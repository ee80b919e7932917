"""下载我的资料 (PIPL art. 45; SPEC §7 Rights): one ZIP of exactly one insured person's own data."""

import json
import tempfile
import zipfile
from datetime import date, datetime

from sqlalchemy import select

from .. import calendar
from ..extensions import db
from ..models import CONSENT_CHANNELS, ID_TYPES, NOTICE_KINDS, STATUSES, Case, Notification, User, utcnow
from . import auditlog, consent, documents, history, lines, transfers
from .product_data import DOCUMENT_KINDS, HOTLINE, REPORT_KINDS

README = """您的个人资料副本（重疾就医保 · 英仕健康）

policy.json        保单、被保险人与账户信息
applications.json  您的每一个服务申请：所填内容、状态、终止原因
history.json       每个申请中您可见的办理记录
messages.json      我们发给您的消息
consents.json      您的同意与撤回记录（告知书版本、时间、渠道、记录人）
transfers.json     发送到境外医院或专家的资料记录
documents/         您上传的资料和已交付给您的报告（按申请编号分文件夹）

已限制处理的文件不再提供，只在 restricted.json 中列出。
生成时间（北京时间）：{generated}
如有疑问请致电 {hotline}。
"""


def _local(ts: datetime | None) -> str | None:
    return ts.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if ts else None


def _json(value) -> str:
    def default(o):
        if isinstance(o, datetime):
            return _local(o)
        if isinstance(o, date):
            return o.isoformat()
        return str(o)

    return json.dumps(value, ensure_ascii=False, indent=2, default=default)


def _safe(name: str) -> str:
    return "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name)[:120]


def build(insured, *, actor, now: datetime | None = None):
    """The ZIP (a file object at 0) and its file count; logs `privacy.download` in the audit log."""
    now = now or utcnow()
    cases = list(db.session.scalars(select(Case).where(Case.insured_id == insured.id).order_by(Case.id)))
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    files, restricted = 0, []
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(generated=_local(now), hotline=HOTLINE))
        archive.writestr("policy.json", _json(_policy(insured)))
        archive.writestr("applications.json", _json([_case(c) for c in cases]))
        archive.writestr("history.json", _json({c.ref: [
            {"时间": e.at, "说明": e.summary, "状态": STATUSES.get(e.to_status, e.to_status)}
            for e in history.timeline(c, include_internal=False)] for c in cases}))
        archive.writestr("messages.json", _json([
            {"时间": n.created_at, "标题": n.title, "内容": n.body} for n in db.session.scalars(
                select(Notification).where(Notification.insured_id == insured.id).order_by(Notification.id))]))
        archive.writestr("consents.json", _json([_consent(r) for r in consent.records(insured)]))
        archive.writestr("transfers.json", _json([
            {"申请编号": c.ref, "接收方": t.recipient, "国家": t.country, "时间": t.at, "资料": t.documents,
             "依据的同意记录": t.consent_id} for c in cases for t in transfers.for_case(c)]))
        for case in cases:
            for document in case.documents:
                if document.withdrawn_at is not None or (document.kind in REPORT_KINDS and not document.delivered_at):
                    continue
                if document.restricted_at is not None:
                    restricted.append({"申请编号": case.ref, "文件": document.original_name,
                                       "限制时间": document.restricted_at})
                    continue
                path = documents.path_of(document)
                if path.is_file():
                    archive.write(path, f"documents/{case.ref}/{document.id}_{_safe(document.original_name)}")
                    files += 1
        archive.writestr("restricted.json", _json(restricted))
    spool.seek(0)
    auditlog.record("privacy.download", obj=insured, actor=actor,
                    detail={"cases": len(cases), "files": files, "restricted": len(restricted)})
    return spool, files


def _policy(insured) -> dict:
    policy = insured.policy
    account = db.session.scalar(select(User).where(User.insured_id == insured.id))
    return {
        "保单号": policy.policy_no, "产品": policy.product.name, "投保人": policy.holder_name,
        "保障开始": policy.start_date, "保障结束": policy.end_date, "等待期（天）": policy.waiting_days,
        "被保险人": insured.name, "证件类型": ID_TYPES.get(insured.id_type, insured.id_type),
        "证件号码": insured.id_number, "手机": insured.phone, "邮箱": insured.email,
        "账户": {"用户名": account.username, "邮箱": account.email, "手机": account.phone,
               "注册时间": account.created_at} if account else None,
    }


def _case(case) -> dict:
    line = case.policy.product.line(case.line_code)
    text_restricted = case.restricted_at is not None
    return {
        "编号": case.ref, "服务项目": line.name if line else case.line_code, "状态": case.status_label,
        "提交时间": case.submitted_at, "结案时间": case.closed_at,
        "终止原因": lines.TERMINATION_REASONS[case.termination_reason].label
        if case.termination_reason in lines.TERMINATION_REASONS else case.termination_reason,
        "疾病": case.illness, "初次确诊日期": case.first_diagnosis_date,
        "诊断": "已限制处理" if text_restricted else case.diagnosis,
        "国家": case.country, "城市": case.city, "医院": case.hospital.name if case.hospital else None,
        "科室": case.department, "住院条日期": case.admission_slip_date,
        "其他填写内容": "已限制处理" if text_restricted else case.request_data,
        "资料": [{"类型": {**DOCUMENT_KINDS, **REPORT_KINDS}.get(d.kind, d.kind), "文件": d.original_name,
                "上传时间": d.uploaded_at, "已限制处理": d.restricted_at is not None}
               for d in case.documents if d.withdrawn_at is None],
    }


def _consent(record) -> dict:
    notice = record.notice
    return {
        "时间": record.at, "用途": "出境传输" if record.purpose == consent.CROSS_BORDER else "处理健康信息和证件号码",
        "操作": "同意" if record.action == "given" else "撤回",
        "告知书": f"{NOTICE_KINDS.get(notice.kind, notice.kind)} 第 {notice.version} 版" if notice else None,
        "渠道": CONSENT_CHANNELS.get(record.channel, record.channel),
        "记录人": record.actor_name if record.channel == "hotline" else "本人",
        "接收方": record.recipient, "国家": record.country, "资料": record.documents or None,
    }
