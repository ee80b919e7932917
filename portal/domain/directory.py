"""Directories kept by supervisors: hospitals, overseas hospitals, escorts, experts (SPEC §1, §2).

Each kind is a row of `KINDS` (data, read by one generic engine): its columns, the lists a value
must belong to, and the natural key used for duplicate checks and CSV upserts. Rows are never
deleted, only deactivated; every change writes an audit row. The caller commits.
"""

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Select, null, or_, select

from ..extensions import db
from ..models import Escort, Expert, Hospital, Product, ServiceLine, utcnow
from . import auditlog
from .errors import DomainError
from .policy_import import ImportError_
from .text import bad_character, text_problem

PHONE = re.compile(r"[0-9+\-() ]{5,30}")
CHINA = "中国"


@dataclass(frozen=True)
class Column:
    """One editable attribute; `choices` names a list from `allowed_values` the value must be in."""

    name: str
    label: str
    required: bool = False
    choices: str | None = None
    phone: bool = False


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    model: type
    #: prefix of the audit actions: hospital.create, escort.deactivate, ...
    noun: str
    columns: tuple[Column, ...]
    #: natural key: no two rows of the kind share it; CSV rows with a known key update that row
    key: tuple[str, ...]
    #: values every row of the kind has (also the filter that separates domestic from overseas hospitals)
    fixed: Mapping[str, object] = field(default_factory=dict)
    #: a rule across columns: (field, message) or None
    check: Callable[[dict, Callable], tuple[str, str] | None] | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _expert_location(values: dict, lookup: Callable) -> tuple[str, str] | None:
    """Domestic second opinions come from experts in the product's expert cities (SPEC §2)."""
    if values["country"] == CHINA and values["city"] not in (cities := lookup("expert_cities")):
        return "city", f"国内专家所在城市应为：{'、'.join(cities)}。"
    return None


_NAME = Column("name", "名称", required=True)
_CITY = Column("city", "城市", required=True)
_PHONE = Column("phone", "电话", phone=True)

KINDS: dict[str, Kind] = {
    "hospital": Kind(
        "hospital", "国内医院", Hospital, "hospital",
        (_NAME, _CITY, Column("address", "地址"), Column("level", "等级"), _PHONE),
        key=("name", "city"), fixed={"overseas": False, "country": CHINA},
    ),
    "overseas_hospital": Kind(
        "overseas_hospital", "海外医院", Hospital, "hospital",
        (_NAME, Column("country", "国家", required=True, choices="countries"), _CITY,
         Column("address", "地址"), _PHONE),
        key=("name", "city"), fixed={"overseas": True, "level": None},
    ),
    "escort": Kind(
        "escort", "陪诊员", Escort, "escort",
        (Column("name", "姓名", required=True), Column("phone", "电话", required=True, phone=True),
         Column("city", "城市", required=True, choices="escort_cities")),
        key=("phone",),
    ),
    "expert": Kind(
        "expert", "专家", Expert, "expert",
        (Column("name", "姓名", required=True), Column("title", "职称"), Column("specialty", "专科"),
         Column("country", "国家", required=True, choices="expert_countries"), _CITY,
         Column("hospital_name", "所在医院"), Column("hospital_grade", "医院等级")),
        key=("name", "hospital_name"), check=_expert_location,
    ),
}


def _union(lists) -> list[str]:
    """Concatenate lists keeping the first occurrence of each value, in order."""
    return list(dict.fromkeys(v for values in lists for v in values or ()))


def allowed_values(name: str) -> list[str]:
    """The product-data list a directory value must belong to (union over every product)."""
    if name == "escort_cities":
        return _union(db.session.scalars(select(ServiceLine.cities).where(ServiceLine.code == "domestic_escort")))
    if name == "expert_cities":
        return _union(db.session.scalars(select(Product.expert_cities)))
    countries = _union(db.session.scalars(select(Product.countries)))
    return [CHINA, *countries] if name == "expert_countries" else countries


def problems(kind: Kind, raw: Mapping[str, object], lookup: Callable = allowed_values,
             ) -> tuple[dict, list[tuple[str, str]]]:
    """Normalise one record and list every (field, message) wrong with it; `lookup` gives allowed values."""
    values, found = {}, []
    table = kind.model.__table__
    for column in kind.columns:
        value = str(raw.get(column.name) or "").strip() or None
        values[column.name] = value
        if value is None:
            if column.required:
                found.append((column.name, f"请填写{column.label}。"))
            continue
        limit = table.c[column.name].type.length
        if bad_character(value) is not None:
            found.append((column.name, f"{column.label}{text_problem(value, limit)}"))
        elif len(value) > limit:
            found.append((column.name, f"{column.label}最多 {limit} 个字。"))
        elif column.phone and not PHONE.fullmatch(value):
            found.append((column.name, f"{column.label}只能包含数字、空格和 + - ( )，5–30 位。"))
        elif column.choices and value not in (allowed := lookup(column.choices)):
            found.append((column.name, f"{column.label}“{value}”不在服务范围内，应为：{'、'.join(allowed)}。"))
    if not found and kind.check and (problem := kind.check(values, lookup)):
        found.append(problem)
    return values, found


def _scoped(kind: Kind) -> Select:
    """All rows of the kind (domestic and overseas hospitals share a table)."""
    stmt = select(kind.model)
    if "overseas" in kind.fixed:
        stmt = stmt.where(kind.model.overseas == kind.fixed["overseas"])
    return stmt


def _by_key(kind: Kind, values: dict):
    stmt = _scoped(kind)
    for name in kind.key:
        column = getattr(kind.model, name)
        stmt = stmt.where(column.is_(None) if values[name] is None else column == values[name])
    return db.session.scalars(stmt.limit(1)).first()


def _duplicate_message(kind: Kind) -> str:
    labels = "、".join(c.label for c in kind.columns if c.name in kind.key)
    return f"已有{labels}相同的{kind.label}，请直接编辑那一条。"


def get(code: str, item_id: int):
    """The row of this kind with this id, or None (an overseas id is not a domestic hospital)."""
    kind = KINDS[code]
    return db.session.scalars(_scoped(kind).where(kind.model.id == item_id)).first()


def search(code: str, *, q: str = "", active: bool | None = True) -> Select:
    """Rows of the kind matching `q` (name, city or phone contains it), ordered by city and name."""
    kind = KINDS[code]
    stmt = _scoped(kind)
    if active is not None:
        stmt = stmt.where(kind.model.active == active)
    if q := q.strip():
        pattern = f"%{q}%"
        searched = [getattr(kind.model, n) for n in ("name", "city", "phone", "hospital_name", "specialty")
                    if n in kind.names]
        stmt = stmt.where(or_(*(column.ilike(pattern) for column in searched)))
    return stmt.order_by(kind.model.city, kind.model.name, kind.model.id)


def _apply(kind: Kind, row, values: dict) -> dict:
    """Set the values (and the kind's fixed ones) on `row`; return {field: [old, new]} of real changes."""
    changes, new = {}, row.id is None
    for name, value in {**values, **kind.fixed}.items():
        if (old := getattr(row, name)) != value:
            changes[name] = [old, value]
        # an INSERT leaves out None, so the column default (level 三甲) would win over an explicit blank
        setattr(row, name, null() if new and value is None else value)
    if kind.model is Expert:
        _link_expert_hospital(row)
    return changes


def _link_expert_hospital(expert: Expert) -> None:
    """Link the expert to the directory hospital of that name, when there is one."""
    expert.hospital_id = db.session.scalar(select(Hospital.id).where(
        Hospital.name == expert.hospital_name, Hospital.overseas == (expert.country != CHINA)).limit(1))


def _valid(kind: Kind, raw: Mapping[str, object], *, exclude_id: int | None = None) -> dict:
    values, found = problems(kind, raw)
    if found:
        raise DomainError(found[0][1], found[0][0])
    duplicate = _by_key(kind, values)
    if duplicate is not None and duplicate.id != exclude_id:
        raise DomainError(_duplicate_message(kind), kind.key[0])
    return values


def create(code: str, raw: Mapping[str, object], *, actor=None, ip: str | None = None):
    """Add a row to a directory (supervisors); DomainError names the field at fault."""
    kind = KINDS[code]
    values = _valid(kind, raw)
    row = kind.model(active=True)
    _apply(kind, row, values)
    db.session.add(row)
    db.session.flush()
    auditlog.record(f"{kind.noun}.create", obj=row, actor=actor, ip=ip, detail={"kind": code, "values": values})
    return row


def update(code: str, row, raw: Mapping[str, object], *, actor=None, ip: str | None = None) -> dict:
    """Edit a directory row (supervisors); returns the changes, audited when there are any."""
    kind = KINDS[code]
    values = _valid(kind, raw, exclude_id=row.id)
    changes = _apply(kind, row, values)
    if changes:
        db.session.flush()
        auditlog.record(f"{kind.noun}.update", obj=row, actor=actor, ip=ip, detail={"kind": code, "changes": changes})
    return changes


#: the grade a domestic second-opinion expert's hospital must have (seed: 北京、上海、广州的三甲医院专家)
EXPERT_GRADE = "三甲"


def expert_grade(expert: Expert) -> str | None:
    """The grade recorded for the expert's hospital, else that of the linked directory hospital."""
    if expert.hospital_grade:
        return expert.hospital_grade
    hospital = db.session.get(Hospital, expert.hospital_id) if expert.hospital_id else None
    return hospital.level if hospital is not None else None


def listed_when_requested(hospital: Hospital, case) -> bool:
    """Active now, or deactivated only after the case was requested (以申请服务时的医院合作列表为准)."""
    if hospital.active:
        return True
    return hospital.deactivated_at is not None and _aware(hospital.deactivated_at) > _aware(case.submitted_at)


def _aware(ts):
    from datetime import UTC

    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def set_active(code: str, row, active: bool, *, actor=None, ip: str | None = None, now=None) -> None:
    """Deactivate (no longer offered for new requests) or reactivate a row; never deletes."""
    kind = KINDS[code]
    if row.active == active:
        return
    row.active = active
    if kind.model is Hospital:
        row.deactivated_at = None if active else (now or utcnow())
    db.session.flush()
    auditlog.record(f"{kind.noun}.{'reactivate' if active else 'deactivate'}", obj=row, actor=actor, ip=ip,
                    detail={"kind": code})


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _read_header(kind: Kind, header: list[str]) -> list[str]:
    """Map header cells (column name or its Chinese label) to column names; refuse unknown or missing ones."""
    by_title = {title: c.name for c in kind.columns for title in (c.name, c.label)}
    names = [by_title.get(cell.strip()) for cell in header]
    unknown = [cell for cell, name in zip(header, names, strict=True) if name is None]
    missing = [c.name for c in kind.columns if (c.required or c.name in kind.key) and c.name not in names]
    errors = []
    if unknown:
        errors.append((1, f"表头有不认识的列：{', '.join(unknown)}（可用列：{', '.join(kind.names)}）"))
    if missing:
        errors.append((1, f"表头缺少列：{', '.join(missing)}"))
    if errors:
        raise ImportError_(errors)
    return names


def import_csv(code: str, text: str, *, actor=None, ip: str | None = None) -> ImportResult:
    """Upsert a directory from CSV by its natural key, all or nothing (supervisors; SPEC §2).

    Every line is checked first; any error raises ImportError_ listing (line number, message) and
    nothing is written. Rows whose key already exists update that row (columns missing from the
    header are left as they are); others are added active.
    """
    kind = KINDS[code]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        raise ImportError_([(1, "文件为空")])
    names = _read_header(kind, header)
    records, errors, seen = [], [], {}
    lookup = cache(allowed_values)  # one query per list for the whole file, not per line
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank lines at the end
        if len(cells) > len(names):
            errors.append((line, f"列数（{len(cells)}）多于表头（{len(names)}）"))
            continue
        values, found = problems(kind, dict(zip(names, cells, strict=False)), lookup)
        errors.extend((line, message) for _, message in found)
        key = tuple(values[n] for n in kind.key)
        if key in seen:
            errors.append((line, f"与第 {seen[key]} 行重复（{'、'.join(filter(None, key))}）"))
        seen.setdefault(key, line)
        records.append(values)
    if errors:
        raise ImportError_(errors)
    if not records:
        raise ImportError_([(1, "文件中没有数据行")])
    return _write(kind, records, set(names), actor=actor, ip=ip)


def _write(kind: Kind, records: list[dict], given: set[str], *, actor, ip: str | None = None) -> ImportResult:
    existing = {tuple(getattr(r, n) for n in kind.key): r for r in db.session.scalars(_scoped(kind))}
    result = ImportResult()
    for values in records:
        row = existing.get(tuple(values[n] for n in kind.key))
        if row is None:
            row = kind.model(active=True)
            _apply(kind, row, values)
            db.session.add(row)
            db.session.flush()
            auditlog.record(f"{kind.noun}.create", obj=row, actor=actor, ip=ip,
                            detail={"kind": kind.code, "values": values, "via": "import"})
            result.created += 1
        elif changes := _apply(kind, row, {name: v for name, v in values.items() if name in given}):
            db.session.flush()
            auditlog.record(f"{kind.noun}.update", obj=row, actor=actor, ip=ip,
                            detail={"kind": kind.code, "changes": changes, "via": "import"})
            result.updated += 1
        else:
            result.unchanged += 1
    auditlog.record(f"{kind.noun}.import", actor=actor, ip=ip, detail={"kind": kind.code, **vars(result)})
    return result
