"""What the insured reads (issue 14 item 7): the staff wording of milestones and history turned to the insured,
and the outcome of a closed case said once, without contradiction."""

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
            return "您未在约定时间就诊，根据服务细则，本次服务视为已使用。"
        return "服务已完成，感谢您的信任。"
    if case.status == "terminated":
        if case.termination_reason == "not_eligible":
            return "本次申请未通过核实，已登记备案，未占用服务次数。"
        return "服务已终止。"
    if case.status == "cancelled":
        return "您已取消这次申请，占用的服务次数已退回。"
    return None
