"""What the insured reads (issue 14 item 7): the staff wording of milestones and history turned to the insured,
and the outcome of a closed case said once, without contradiction."""

from .product_data import HOTLINE

#: the seed's no-show rule, said when a booking is confirmed (notice, SMS, case page): 若已完成安排但被保险人未在
#: 预定时间就医/未与陪诊人员联络或未到达指定陪诊医院，亦视为该次服务已完成
NO_SHOW_TERMS = {
    "appointment": "如未在预约时间就诊，本次服务视为已使用。",
    "escort": "如未按约定与陪诊员联络或未到达医院，本次服务视为已使用。",
}
#: the no-show message itself
NO_SHOW_TOLD = "根据服务细则，服务已安排而未按时就诊的，亦视为该次服务已使用。"


def no_show_message(line_code: str) -> str:
    """What the insured is told when a no-show is recorded (the seed's rule, the hotline for questions)."""
    missed = "您未按约定与陪诊员会合或未到达医院。" if line_code == "domestic_escort" else "您未在预约时间就诊。"
    return f"{missed}{NO_SHOW_TOLD}如有疑问请致电 {HOTLINE}。"

#: staff words → the insured's, applied in this order
_TO_INSURED = (("代客户", "代您"), ("客户", "您"), ("被保险人", "您"))


def for_insured(text: str) -> str:
    """“已预约并通知客户” → “已预约并通知您”; “客户上传资料” → “您上传资料”."""
    for staff, insured in _TO_INSURED:
        text = text.replace(staff, insured)
    return text


def outcome_sentence(case) -> str | None:
    """One sentence on how a closed case ended; None while it is open."""
    if case.status == "completed":
        if case.milestone == "no_show":
            return f"您未在约定时间就诊。{NO_SHOW_TOLD}"
        return "服务已完成，感谢您的信任。"
    if case.status == "terminated":
        if case.termination_reason == "not_eligible":
            return "本次申请未通过核实，已登记备案，未占用服务次数。"
        return "服务已终止。"
    if case.status == "cancelled":
        return "您已取消这次申请，占用的服务次数已退回。"
    return None
