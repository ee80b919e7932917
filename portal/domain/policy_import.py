"""Upsert the insurer's policy register from CSV, all or nothing (SPEC §8 `policies import`)."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import ID_TYPES, InsuredPerson, Policy, Product
from . import auditlog
from .identity import id_number_problem, normalize_id
from .text import text_problem

COLUMNS = ["policy_no", "product_code", "holder_name", "start_date", "end_date", "waiting_days", "status",
           "insured_name", "id_type", "id_number", "phone", "email"]
REQUIRED = ["policy_no", "product_code", "holder_name", "start_date", "end_date", "insured_name", "id_number"]
POLICY_STATUSES = ("active", "suspended", "cancelled")
#: the column each field lands in holds at most this many characters (portal.models.accounts)
MAX_LENGTH = {"policy_no": 40, "product_code": 40, "holder_name": 60, "insured_name": 60, "id_type": 20,
              "id_number": 40, "phone": 30, "email": 120, "status": 20, "waiting_days": 4}


class ImportError_(ValueError):
    """The file was refused; `errors` lists (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__("; ".join(f"第 {line} 行：{msg}" for line, msg in errors))
        self.errors = errors


@dataclass
class ImportResult:
    policies_created: int = 0
    policies_updated: int = 0
    insured_created: int = 0
    insured_updated: int = 0


def _date(value: str) -> date:
    return date.fromisoformat(value.strip())


def _check_row(row: dict, products: dict) -> list[str]:
    problems = [f"缺少 {col}" for col in REQUIRED if not (row.get(col) or "").strip()]
    for col, limit in MAX_LENGTH.items():
        if problem := text_problem((row.get(col) or "").strip(), limit):
            problems.append(f"{col} {problem}")
    if None in row:  # more cells than the header has columns
        problems.append("该行的列数多于表头")
    if problems:
        return problems
    if row["product_code"].strip() not in products:
        problems.append(f"产品代码“{row['product_code']}”不存在")
    try:
        start, end = _date(row["start_date"]), _date(row["end_date"])
        if end < start:
            problems.append("end_date 早于 start_date")
    except ValueError:
        problems.append("日期格式应为 YYYY-MM-DD")
    waiting = (row.get("waiting_days") or "").strip()
    if waiting and not (waiting.isdigit() and int(waiting) <= 730):
        problems.append("waiting_days 应为 0–730 的整数")
    status = (row.get("status") or "active").strip() or "active"
    if status not in POLICY_STATUSES:
        problems.append(f"status 应为 {'/'.join(POLICY_STATUSES)}")
    id_type = (row.get("id_type") or "id_card").strip() or "id_card"
    if id_type not in ID_TYPES:
        problems.append(f"id_type 应为 {'/'.join(ID_TYPES)}")
    elif problem := id_number_problem(id_type, row["id_number"]):
        problems.append(problem)
    return problems


def import_policies(text: str, *, actor=None, ip: str | None = None, source: str | None = None) -> ImportResult:
    """Validate every row first; write nothing if any row is bad; audit the import (`source`: the file name,
    `actor` None from the CLI). The caller commits."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_([(1, f"表头缺少列：{', '.join(missing)}")])
    products = {p.code: p for p in db.session.scalars(select(Product))}
    rows, errors = [], []
    for row in reader:
        line = reader.line_num
        for problem in _check_row(row, products):
            errors.append((line, problem))
        rows.append(row)
    if errors:
        raise ImportError_(errors)
    if not rows:
        raise ImportError_([(1, "文件中没有数据行")])
    result = _write(rows, products)
    auditlog.record("policy.import", actor=actor, ip=ip, detail={"file": source, **vars(result)})
    return result


def _write(rows: list[dict], products: dict) -> ImportResult:
    result, seen = ImportResult(), set()
    for row in rows:
        no = row["policy_no"].strip()
        policy = db.session.scalar(select(Policy).where(Policy.policy_no == no))
        if policy is None:
            policy = Policy(policy_no=no)
            db.session.add(policy)
            result.policies_created += 1
        elif no not in seen:  # a policy with several insured people repeats its row: count it once
            result.policies_updated += 1
        seen.add(no)
        product = products[row["product_code"].strip()]
        policy.product_id = product.id
        policy.holder_name = row["holder_name"].strip()
        policy.start_date, policy.end_date = _date(row["start_date"]), _date(row["end_date"])
        waiting = (row.get("waiting_days") or "").strip()
        policy.waiting_days = int(waiting) if waiting else product.waiting_days
        policy.status = (row.get("status") or "").strip() or "active"
        db.session.flush()
        id_type = (row.get("id_type") or "").strip() or "id_card"
        number = normalize_id(row["id_number"])
        person = db.session.scalar(select(InsuredPerson).where(
            InsuredPerson.policy_id == policy.id, InsuredPerson.id_type == id_type,
            InsuredPerson.id_number == number))
        if person is None:
            person = InsuredPerson(policy_id=policy.id, id_type=id_type, id_number=number)
            db.session.add(person)
            result.insured_created += 1
        else:
            result.insured_updated += 1
        person.name = row["insured_name"].strip()
        person.phone = (row.get("phone") or "").strip() or person.phone
        person.email = (row.get("email") or "").strip() or person.email
        db.session.flush()
    return result
