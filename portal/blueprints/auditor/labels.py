"""Chinese labels the auditor pages show for stored codes (the codes stay in exports as data)."""

from flask import g

from ...domain.lines import BILL_STATUSES, TERMINATION_REASONS, milestone_label
from ...domain.product_data import CLOCK_LABELS, DOCUMENT_KINDS, REPORT_KINDS
from ...models import CHANNELS, STATUSES
from ...web.action_ui import action_label
from ...web.labels import CLOCK_OUTCOMES, CLOCK_STATES

ROLES = {"insured": "被保险人", "coordinator": "协调员", "supervisor": "主管", "auditor": "史带审计",
         "auditor_admin": "史带账号管理员", "system": "系统"}
AUDIT_ACTIONS = {
    "document.view": "查看文件",
    "case.view": "查看案件",
    "case.export": "导出案件档案",
    "weekly_report.view": "查看周报",
    "weekly_report.download": "下载周报",
    "auditor.write_refused": "拒绝审计员的写操作",
    "insurer_delivery.read": "标记报告已阅",
    "case.search_id_number": "按证件号码查询",
    "register.request": "注册：核对保单登记",
    "register.resend": "注册：重发验证码",
    "register.verify": "注册：验证码错误或失效",
    "register.complete": "注册：开通账号",
    "user.create": "新建账号",
    "user.password_reset": "重置密码",
    "user.deactivate": "停用账号",
    "user.reactivate": "恢复账号",
    "receipt.verify": "用回执校验记录",
    "privacy.download": "被保险人下载本人资料",
    "privacy.legal_hold_view": "依法查阅已限制处理的文件",
    "privacy.restrict": "限制处理到期资料",
    "privacy.request_decided": "处理删除/限制处理请求",
}
REVIEW = {"pending": "待审核", "accepted": "已接收", "rejected": "已退回"}


def line_name(code: str) -> str:
    """Name of a service line; the table is read once per request."""
    from ...domain.reports import service_lines

    if "auditor_lines" not in g:
        g.auditor_lines = dict(service_lines())
    return g.auditor_lines.get(code, code)


def labels() -> dict:
    """Everything templates need to turn codes into words."""
    return {
        "statuses": STATUSES, "roles": ROLES, "channels": CHANNELS, "clocks": CLOCK_LABELS,
        "clock_states": CLOCK_STATES, "outcomes": CLOCK_OUTCOMES, "review": REVIEW,
        "documents": {**DOCUMENT_KINDS, **REPORT_KINDS}, "bills": BILL_STATUSES,
        "reasons": {code: r.label for code, r in TERMINATION_REASONS.items()},
        "audit": AUDIT_ACTIONS, "action": action_label, "line": line_name, "milestone": milestone_label,
    }
