"""The words every audience's pages use for stored codes, one table each, given to every template as a
global (STYLE "Data as data"): templates look a code up here instead of spelling labels inline."""

from ..domain.handlers.arranging import OUTCOMES
from ..domain.product_data import HOTLINE, HOTLINE_TEL
from ..models import CHANNELS, STATUSES

#: how a stopped clock ended
CLOCK_OUTCOMES = {"met": "按时完成", "breached": "已超时", "void": "未用（案件结束）"}
CLOCK_STATES = {"pending": "未开始", "running": "计时中", "paused": "暂停（等待客户）", "stopped": "已停止"}
#: badge colour of each case status (css .badge.ok/.bad/.warn/.info)
STATUS_TONES = {"submitted": "info", "verifying": "info", "in_service": "info", "awaiting_documents": "warn",
                "completed": "ok", "terminated": "bad", "cancelled": ""}
#: "due soon" = at most this many working days left (0 = due today): the queue tab and the clock badge
DUE_SOON_WORKING_DAYS = 2
#: how an appointment and an escort went, as the coordinator recorded it (the lifecycle's own choices)
BOOKING_OUTCOMES = {"appointment": OUTCOMES["record_visit"], "escort": OUTCOMES["record_escort_outcome"]}

TEMPLATE_GLOBALS = {
    "HOTLINE": HOTLINE, "HOTLINE_TEL": HOTLINE_TEL, "CHANNELS": CHANNELS, "STATUSES": STATUSES,
    "CLOCK_OUTCOMES": CLOCK_OUTCOMES, "CLOCK_STATES": CLOCK_STATES, "STATUS_TONES": STATUS_TONES,
    "DUE_SOON_WORKING_DAYS": DUE_SOON_WORKING_DAYS, "BOOKING_OUTCOMES": BOOKING_OUTCOMES,
}
