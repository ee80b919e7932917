"""Second opinions: experts, providers and the reports delivered to the insured and 史带 (SPEC §4, §6)."""

from sqlalchemy import select

from ...extensions import db
from ...models import Document, Expert, Hospital
from .. import directory, insurer, lines, transfers
from ..errors import DomainError
from ..product_data import REPORT_KINDS
from .base import Step, fetch, handles, line_name, service_name

#: what `deliver` marks delivered besides the required deliverable
ALSO_DELIVERED = {"overseas_second_opinion": ("report",), "overseas_treatment": ("bills",)}


@handles("assign_expert")
def assign_expert(step: Step) -> None:
    """A 三甲 expert in one of the product's expert cities (北京/上海/广州)."""
    expert = fetch(Expert, step.require("expert_id", "请选择专家"), "expert_id", "所选专家不存在")
    cities = step.case.policy.product.expert_cities
    if (not expert.active or expert.country != "中国" or expert.city not in cities
            or directory.expert_grade(expert) != directory.EXPERT_GRADE):
        raise DomainError(f"国内第二诊疗意见须由{'、'.join(cities)}的三甲医院专家出具", field="expert_id")
    step.case.expert_id = expert.id
    step.data = {"expert": expert.name}
    step.summary = f"指派专家：{expert.name}（{expert.city} {expert.hospital_name or ''}）"


def _document(step: Step, kind: str) -> Document:
    """A document of this case and kind, not withdrawn."""
    label = REPORT_KINDS.get(kind, kind)
    document = fetch(Document, step.require("document_id", f"请选择{label}"), "document_id", "所选文件不存在")
    if document.case_id != step.case.id or document.withdrawn_at is not None:
        raise DomainError("所选文件不属于本案件", field="document_id")
    if document.kind != kind:
        raise DomainError(f"所选文件不是{label}", field="document_id")
    step.data = {"document_id": document.id, "document": document.original_name}
    return document


@handles("issue_report")
def issue_report(step: Step) -> None:
    """The expert's report (PDF) is on the case."""
    document = _document(step, "report")
    step.summary = f"出具报告：{document.original_name}"


@handles("choose_provider")
def choose_provider(step: Step) -> None:
    """Country, overseas hospital and (optionally) expert of an overseas second opinion."""
    case = step.case
    country = step.require("country", "请选择国家")
    countries = case.policy.product.countries
    if country not in countries:
        raise DomainError(f"{country}不在服务国家范围内（{'、'.join(countries)}）", field="country")
    hospital = _overseas_hospital(step, country)
    expert = None
    if step.get("expert_id") is not None:
        expert = fetch(Expert, step.get("expert_id"), "expert_id", "所选专家不存在")
        if not expert.active or expert.country != country:
            raise DomainError(f"所选专家不在{country}或已停用", field="expert_id")
    transfer = transfers.send(step, hospital, expert)  # refused until the insured consented to this recipient
    case.country, case.hospital_id, case.expert_id = country, hospital.id, getattr(expert, "id", None)
    step.data = {**step.data, "hospital": hospital.name, "expert": getattr(expert, "name", None)}
    step.summary = (f"选定海外医院：{country} {hospital.name}" + (f"，专家 {expert.name}" if expert else "")
                    + f"；已按客户的出境同意发送资料（传输记录 {transfer.id}）")


def _overseas_hospital(step: Step, country: str | None = None) -> Hospital:
    """An active overseas directory hospital (in `country` when given, else in a product country)."""
    hospital = fetch(Hospital, step.require("hospital_id", "请选择海外医院"), "hospital_id", "所选医院不存在")
    if not hospital.overseas or not directory.listed_when_requested(hospital, step.case):
        raise DomainError(f"“{hospital.name}”不在当前海外合作医院目录中", field="hospital_id")
    if country is not None and hospital.country != country:
        raise DomainError(f"“{hospital.name}”位于{hospital.country}，不在所选国家{country}", field="hospital_id")
    if hospital.country not in step.case.policy.product.countries:
        raise DomainError(f"{hospital.country}不在服务国家范围内", field="hospital_id")
    return hospital


@handles("report_received")
def report_received(step: Step) -> None:
    """The overseas expert's report arrived."""
    document = _document(step, "report")
    step.summary = f"收到海外报告：{document.original_name}"


@handles("report_translated")
def report_translated(step: Step) -> None:
    """The Chinese translation of the overseas report is on the case."""
    document = _document(step, "report_translation")
    step.summary = f"报告翻译完成：{document.original_name}"


@handles("deliver")
def deliver(step: Step) -> None:
    """Deliver the line's deliverable to the insured and 史带 (auditor portal) = completed."""
    case = step.case
    kind = lines.DELIVERABLES[case.line_code]
    if step.get("document_id") is not None:
        document = _document(step, kind)
    else:
        document = db.session.scalar(select(Document).where(
            Document.case_id == case.id, Document.kind == kind, Document.withdrawn_at.is_(None))
            .order_by(Document.id.desc()))
        if document is None:
            raise DomainError(f"请先上传{REPORT_KINDS[kind]}", field="document_id")
    others = db.session.scalars(select(Document).where(
        Document.case_id == case.id, Document.kind.in_(ALSO_DELIVERED.get(case.line_code, ())),
        Document.withdrawn_at.is_(None), Document.delivered_at.is_(None))).all()
    for item in [document, *others]:
        item.delivered_at = item.delivered_at or step.now
    step.data = {"delivered_document_ids": [d.id for d in [document, *others]]}
    insurer.case_report(case, [document, *others], now=step.now)  # 史带's inbox and e-mail (SPEC §6)
    step.summary = f"交付{REPORT_KINDS[kind]}：{document.original_name}（客户及史带）"
    if case.line_code == "overseas_treatment":
        step.notify("服务已完成", f"您的{service_name(case)}已完成，服务报告及账单已交付史带。感谢您的信任。")
    else:
        step.notify("报告已送达", f"您的{line_name(case)}报告已出具，可在案件详情中查看和下载。本次服务已完成。")
