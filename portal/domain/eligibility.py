"""Eligibility of a service request: six rules, always all evaluated, each with its own reason (SPEC §3)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..extensions import db
from ..models import Hospital
from . import ledger, lines
from .errors import DomainError
from .identity import id_number_problem, normalize_id

#: (code, label) in the order the contract and the screens show them
RULES = (
    ("identity", "身份核实"),
    ("policy_in_force", "保单有效"),
    ("waiting_period", "等待期"),
    ("illness_covered", "保障疾病"),
    ("entitlement_available", "服务次数"),
    ("location", "服务地点"),
)
POLICY_STATUS_LABELS = {"active": "有效", "suspended": "已中止", "cancelled": "已退保"}


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome; `reason` is the sentence shown to the insured and coordinator when it failed."""

    code: str
    label: str
    passed: bool
    reason: str = ""


def cn_date(d: date) -> str:
    """2026年12月30日 — the long form used in reasons."""
    return f"{d.year}年{d.month}月{d.day}日"


def as_date(value) -> date | None:
    """A date from a date or an ISO string (forms and JSON give strings); None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        raise ValueError("a datetime is not a business date")
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def evaluate(*, insured, line_code: str, data: dict, on_date: date) -> list[RuleResult]:
    """Every rule, in order, even after a failure, so the user sees every reason at once; never writes."""
    policy = insured.policy
    line = policy.product.line(line_code)
    if line is None:
        raise DomainError("本产品不提供该项服务。", "line_code")
    year = ledger.policy_year(policy, on_date)
    problems = {
        "identity": _identity(insured, data),
        "policy_in_force": _policy_in_force(policy, on_date),
        "waiting_period": _waiting_period(policy, data, on_date, year),
        "illness_covered": _illness_covered(policy.product, data),
        "entitlement_available": _entitlement_available(insured, line, on_date, year),
        "location": _location(policy.product, line, data),
    }
    return [RuleResult(code, label, not problems[code], "".join(problems[code])) for code, label in RULES]


def passed(results: list[RuleResult]) -> bool:
    """True when every rule passed."""
    return all(result.passed for result in results)


def _identity(insured, data: dict) -> list[str]:
    # the caller's identity defaults to the insured's own (a logged-in insured asking for themself)
    name = str(data.get("name", insured.name) or "").strip()
    id_type = data.get("id_type") or insured.id_type
    id_number = normalize_id(data.get("id_number", insured.id_number) or "")
    problems = []
    if name != insured.name:
        problems.append("姓名与保单登记的被保险人姓名不一致。")
    if problem := id_number_problem(id_type, id_number):
        problems.append(problem)
    elif id_type != insured.id_type or id_number != normalize_id(insured.id_number):
        problems.append("证件号码与保单登记的被保险人证件号码不一致。")
    return problems


def _policy_in_force(policy, on_date: date) -> list[str]:
    problems = []
    if policy.status != "active":
        label = POLICY_STATUS_LABELS.get(policy.status, policy.status)
        problems.append(f"保单当前状态为“{label}”，不在保障中。")
    if not policy.start_date <= on_date <= policy.end_date:
        problems.append(f"申请日期 {cn_date(on_date)} 不在保单保障期间"
                        f"（{cn_date(policy.start_date)}至{cn_date(policy.end_date)}）内。")
    return problems


def _waiting_period(policy, data: dict, on_date: date, year) -> list[str]:
    try:
        diagnosed = as_date(data.get("first_diagnosis_date"))
    except ValueError:
        return ["初次确诊日期格式不正确。"]
    if diagnosed is None:
        return ["请填写初次确诊日期。"]
    # seed/SPEC §3: the waiting_days days starting on the start date (day 1 = the start date); 90 days from
    # 2026-01-01 end on 2026-03-31, so a diagnosis on 2026-04-01 is after it
    waiting_end = waiting_period_end(policy)
    if diagnosed <= waiting_end:
        return [f"您的等待期至 {cn_date(waiting_end)} 结束，初次确诊日期需在等待期之后。"]
    if diagnosed > on_date:
        return ["初次确诊日期不能晚于申请日期。"]
    # without a policy year the policy rule already explains; nothing more to compare against here
    if year is not None and not year[0] <= diagnosed <= year[1]:
        return [f"初次确诊日期需在本保单年度（{cn_date(year[0])}至{cn_date(year[1])}）内。"]
    return []


#: one rule everywhere (intake, the insured's form, confirm_hospital): a slip cannot be dated after today
SLIP_IN_FUTURE = "住院条开具日期不能晚于今天。"


def check_admission_slip(slip: date | None, today: date) -> None:
    """Refuse an admission slip dated after today (DomainError at the field)."""
    if slip is not None and slip > today:
        raise DomainError(SLIP_IN_FUTURE, "admission_slip_date")


def waiting_period_end(policy) -> date:
    """The last day of the waiting period (the day before the start date when there is none)."""
    return policy.start_date + timedelta(days=policy.waiting_days - 1)


def _illness_covered(product, data: dict) -> list[str]:
    illness = str(data.get("illness") or "").strip()
    if not illness:
        return ["请选择所患的重度疾病。"]
    if illness not in product.covered_illnesses:
        return [f"“{illness}”不在本产品保障的重度疾病范围内。"]
    return []


def _entitlement_available(insured, line, on_date: date, year) -> list[str]:
    if year is None:
        return [f"申请日期不在保单年度内，没有可用的“{line.name}”服务次数。"]
    if ledger.remaining(insured, line.code, on_date) <= 0:
        return [exhausted_reason(line)]
    return []


def exhausted_reason(line) -> str:
    """The reason given when a line has no unit left (also when a simultaneous request took the last one)."""
    return f"本保单年度“{line.name}”服务次数已用完。"


def _location(product, line, data: dict) -> list[str]:
    if line.overseas:
        return _overseas_location(product, data)
    if line.cities is None:
        return []  # domestic second opinion: 英仕 picks the expert; the insured may live anywhere
    city = str(data.get("city") or "").strip()
    if not city:
        return ["请选择就医城市。"]
    if city not in line.cities:
        return [f"所选城市“{city}”不在{line.short_name}服务城市范围内。"]
    if line.code in lines.CITY_ONLY:
        return []  # escort: the city list rules; the hospital is the insured's choice (directory or typed)
    # the seed: the cooperating hospitals at request time rule for the green channel
    return _hospital_problems(data, overseas=False, place=city)


def _overseas_location(product, data: dict) -> list[str]:
    country = str(data.get("country") or "").strip()
    if not country:
        return ["请选择就医国家。"]
    if country not in product.countries:
        return [f"所选国家“{country}”不在海外服务国家范围内。"]
    return _hospital_problems(data, overseas=True, place=country)


def _hospital_problems(data: dict, *, overseas: bool, place: str) -> list[str]:
    """A chosen hospital must be active in the right directory and in the chosen city or country."""
    value = data.get("hospital_id")
    if value in (None, ""):
        return []  # the hospital may be chosen later with the coordinator
    try:
        hospital = db.session.get(Hospital, int(value))
    except (TypeError, ValueError):
        hospital = None
    if hospital is None or hospital.overseas != overseas or not hospital.active:
        return ["所选医院不在海外合作医院名录中。" if overseas else "所选医院不在合作医院名录中。"]
    where, kind = (hospital.country, "国家") if overseas else (hospital.city, "城市")
    if where != place:
        return [f"所选医院位于{where}，不在所选{kind}“{place}”。"]
    return []
