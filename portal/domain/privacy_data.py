"""Privacy product data: the first version of each notice and the retention periods (SPEC §7).

A notice is never edited: a new text is a new version (`flask privacy notice-add`). The migration
i15_privacy seeds these rows, and `ensure_privacy_data()` adds any that are missing (demo data, tests).
"""

from datetime import date

from .product_data import HOTLINE

PRIVACY_V1 = {
    "kind": "privacy",
    "version": 1,
    "effective_from": date(2020, 1, 1),
    "title": "个人信息处理告知书（健康信息与证件号码）",
    "summary": (
        "为给您安排重疾就医服务，英仕健康需要处理您的姓名、证件号码、联系方式和病历等健康信息，"
        "并向保险公司史带报告服务情况。这些属于敏感个人信息，只有您单独同意后我们才会处理。"
        "资料在服务结束后保存 5 年，到期后停止使用；您可以随时在“我的资料与授权”撤回同意，"
        f"或致电 {HOTLINE}。"
    ),
    "body": (
        "一、谁处理您的个人信息\n"
        f"1. 英仕健康（服务提供方）：受理申请、核实身份与保障、安排就医服务。服务热线 {HOTLINE}"
        "（可要求转个人信息保护负责人）。\n"
        "2. 史带（保险人）：查看服务记录、接收服务报告，监督服务质量。联系方式：保单上载明的史带客服热线，"
        f"或致电 {HOTLINE} 由英仕转接。\n\n"
        "二、为什么处理（目的）\n"
        "核实您的身份和保单保障；安排门诊/住院预约、陪诊、国内和海外第二诊疗意见、海外就医；"
        "按时限跟进并通知您进度；向史带报告服务情况；依法保存服务记录。\n\n"
        "三、处理哪些信息\n"
        "姓名、证件类型和号码、保单信息、手机号码和邮箱；疾病名称、初次确诊日期、诊断；"
        "您上传的病历、出院小结、检验检查报告、影像报告、病理报告、住院条；服务过程中的记录和报告。"
        "其中证件号码和健康信息是敏感个人信息，处理它们可能影响您的隐私，我们只在提供服务所必需的范围内处理。\n\n"
        "四、保存多久\n"
        "案件结束后，您上传的资料和病情描述保存 5 年，服务记录保存 10 年（监管要求的服务档案）。"
        "期限届满或您的删除请求获批后，相关资料将“限制处理”：不再向任何人展示或使用，"
        "仅在法律要求时经审计后查阅。\n\n"
        "五、您的权利和怎么撤回\n"
        "您可以在“我的资料与授权”下载您的资料副本、申请删除或限制处理、随时撤回同意；"
        f"也可以致电 {HOTLINE} 由客服代为登记。撤回后，依赖该同意的进行中服务将终止"
        "（已占用的服务次数退回），撤回前已进行的处理不受影响。\n\n"
        "六、出境\n"
        "海外第二诊疗意见和海外就医需要把资料发送给境外医院或专家。每次发送前，我们会另行告知接收方、"
        "国家和资料，并单独征得您的同意。"
    ),
}

CROSS_BORDER_V1 = {
    "kind": "cross_border",
    "version": 1,
    "effective_from": date(2020, 1, 1),
    "title": "个人信息出境告知书（海外医院与专家）",
    "summary": (
        "为取得海外专家意见或安排海外就医，英仕健康需要把您的病历、检查报告和影像等资料发送给下面这家"
        "境外医院或专家。对方会用这些资料评估病情、出具意见或安排治疗。只有您同意后我们才会发送；"
        f"发送前您可以撤回，撤回或咨询请致电 {HOTLINE}。"
    ),
    "body": (
        "一、境外接收方\n"
        "本页列出的医院或专家（名称、国家）。接收方按所在国家的法律和医疗保密规定处理您的资料，"
        "您可以通过英仕健康向接收方行使查阅、更正等权利。\n\n"
        "二、发送目的和方式\n"
        "仅用于对您的病情出具第二诊疗意见或评估、安排海外治疗；由英仕健康通过加密方式传输。\n\n"
        "三、发送哪些资料\n"
        "本页列出的资料（如病历、出院小结、检验检查及影像报告、病理报告），以及病史翻译件；"
        "必要时包括姓名、出生日期和护照信息。\n\n"
        "四、保存与撤回\n"
        "接收方在服务完成后按其所在国规定保存病历；英仕健康保留每次发送的记录（接收方、国家、资料、时间），"
        "并向史带报告。发送前可随时撤回同意。\n\n"
        "五、处理者\n"
        f"英仕健康（服务热线 {HOTLINE}）；保险人史带（保单上载明的客服热线，或经 {HOTLINE} 转接）。"
    ),
}

NOTICES = (PRIVACY_V1, CROSS_BORDER_V1)

#: (data_kind, label, years after the case closed, basis)
RETENTION_PERIODS = (
    ("documents", "上传的资料与报告文件", 5, "服务所必需的最短期间"),
    ("free_text", "病情描述与备注", 5, "服务所必需的最短期间"),
    ("service_record", "服务记录（案件历史、时限、同意记录）", 10, "保险服务档案；不限制，只保存"),
)
#: the data kinds the restriction job acts on (service records are kept, never restricted)
RESTRICTABLE = ("documents", "free_text")


def ensure_privacy_data(product) -> None:
    """Add the notices and retention periods that are missing; existing rows are never changed."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Notice, RetentionPeriod

    for notice in NOTICES:
        if db.session.scalar(select(Notice.id).where(Notice.kind == notice["kind"],
                                                     Notice.version == notice["version"])) is None:
            db.session.add(Notice(**notice))
    for data_kind, label, years, basis in RETENTION_PERIODS:
        if db.session.scalar(select(RetentionPeriod.id).where(RetentionPeriod.product_id == product.id,
                                                              RetentionPeriod.data_kind == data_kind)) is None:
            db.session.add(RetentionPeriod(product_id=product.id, data_kind=data_kind, label=label, years=years,
                                           basis=basis))
    db.session.flush()
