"""服务评价 (issue 14 item 9; the 2020 NFRA notice on health-management services): after completion the insured
rates the service once, 1–5 with an optional comment; 史带 sees the ratings per line and per week."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ServiceRating, utcnow
from . import history
from .errors import DomainError

SCORES = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
MAX_COMMENT = 500


def rating_of(case) -> ServiceRating | None:
    return db.session.scalar(select(ServiceRating).where(ServiceRating.case_id == case.id))


def can_rate(case, actor) -> bool:
    """The case's own insured, once, after completion."""
    return (getattr(actor, "role", None) == "insured" and actor.insured_id == case.insured_id
            and case.status == "completed" and rating_of(case) is None)


def rate(case, *, actor, score, comment: str = "", now: datetime | None = None) -> ServiceRating:
    """Record the insured's rating of a completed case (once); written to the case history; flushes."""
    if getattr(actor, "role", None) != "insured" or actor.insured_id != case.insured_id:
        raise DomainError("只能评价您本人的服务。")
    if case.status != "completed":
        raise DomainError("服务完成后才能评价。")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in SCORES:
        raise DomainError("请选择 1–5 分。", "score")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(f"评价内容请不超过 {MAX_COMMENT} 字。", "comment")
    if rating_of(case) is not None:
        raise DomainError("您已评价过这次服务，感谢您的反馈。")
    now = now or utcnow()
    row = ServiceRating(case_id=case.id, insured_id=case.insured_id, line_code=case.line_code, score=score,
                        comment=comment or None, user_id=actor.id, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise DomainError("您已评价过这次服务，感谢您的反馈。") from None
    history.append(case, actor=actor, kind="rating", action="rate", now=now,
                   summary=f"客户评价服务：{score} 分（{SCORES[score]}）" + (f"：{comment}" if comment else ""),
                   data={"rating_id": row.id, "score": score})
    return row


@dataclass(frozen=True)
class RatingFigures:
    """Ratings of one line in one period: how many, the average (one decimal), and the 1–2 scores."""

    line_code: str
    count: int
    average: Decimal | None
    low: int


def figures(periods: list[tuple[datetime, datetime]]) -> list[dict[str, RatingFigures]]:
    """Per period [start, end), the ratings given in it per line code (one grouped query per period).
    The one function the dashboard and the weekly report read (issue 14)."""
    result = []
    for start, end in periods:
        rows = db.session.execute(
            select(ServiceRating.line_code, func.count(), func.sum(ServiceRating.score),
                   func.sum((ServiceRating.score <= 2).cast(db.Integer)))
            .where(ServiceRating.created_at >= start, ServiceRating.created_at < end)
            .group_by(ServiceRating.line_code)).all()
        result.append({code: RatingFigures(code, count, _average(total, count), int(low or 0))
                       for code, count, total, low in rows})
    return result


def _average(total, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(int(total)) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def as_json(periods: list[dict[str, RatingFigures]]) -> list[dict[str, dict]]:
    """figures() as plain JSON (the dashboard's stored snapshot): {line_code: {count, average, low}} per period."""
    return [{code: {"count": f.count, "average": str(f.average) if f.average is not None else None, "low": f.low}
             for code, f in period.items()} for period in periods]
