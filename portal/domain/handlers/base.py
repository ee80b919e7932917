"""The Step a handler works on, the handler registry, and field parsing with Chinese messages."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ... import calendar
from ...extensions import db
from ..errors import DomainError
from ..lines import ACTIONS


@dataclass
class Step:
    """One action in progress: handlers validate `fields`, write side rows and adjust the outcome."""

    case: object
    spec: object
    actor: object
    now: datetime
    fields: dict
    milestone: str | None = None
    to_status: str | None = None
    #: termination reason code when the step closes the case as terminated
    reason: str | None = None
    summary: str = ""
    #: extra CaseEvent data (ids of rows written, names shown in the history)
    data: dict = field(default_factory=dict)
    #: (title, body, sms_note): what the insured is told; sms_note, when given, goes into the short SMS too
    notices: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return calendar.business_today(self.now)

    def get(self, name: str, default=None):
        value = self.fields.get(name, default)
        return default if value == "" else value

    def require(self, name: str, message: str):
        """The field's value, or DomainError(message) attached to that field when missing."""
        value = self.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DomainError(message, field=name)
        return value.strip() if isinstance(value, str) else value

    def notify(self, title: str, body: str, *, sms_note: str | None = None) -> None:
        self.notices.append((title, body, sms_note))


Handler = Callable[[Step], None]
#: action code → its handler, filled by @handles as the handler modules are imported
HANDLERS: dict[str, Handler] = {}


def handles(code: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the guard and side rows of action `code` (run after the generic
    checks of the lifecycle); an unknown or doubly handled code fails when the module is imported."""
    if code not in ACTIONS:
        raise KeyError(f"@handles({code!r}): no such action in portal.domain.lines.ACTIONS")

    def register(function: Handler) -> Handler:
        if code in HANDLERS:
            raise KeyError(f"@handles({code!r}): already handled by {HANDLERS[code].__qualname__}")
        HANDLERS[code] = function
        return function

    return register


def as_int(value, name: str, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(message, field=name) from None


def as_date(value, name: str, message: str) -> date:
    if isinstance(value, datetime):
        return calendar.to_business_date(value)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(message, field=name) from None


def as_datetime(value, name: str, message: str) -> datetime:
    """An aware datetime; naive ones (form inputs) are Asia/Shanghai wall-clock times."""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            raise DomainError(message, field=name) from None
    return value if value.tzinfo else value.replace(tzinfo=calendar.BUSINESS_TZ)


def as_decimal(value, name: str, message: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(message, field=name) from None
    if not number.is_finite():
        raise DomainError(message, field=name)
    return number


def as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y", "是"}
    return bool(value)


def fetch(model, value, name: str, message: str):
    """The row with this id, or DomainError(message)."""
    row = db.session.get(model, as_int(value, name, message))
    if row is None:
        raise DomainError(message, field=name)
    return row


def local_time(ts: datetime) -> str:
    """E.g. 6月10日（周三）09:00 in Asia/Shanghai."""
    local = ts.astimezone(calendar.BUSINESS_TZ)
    return f"{calendar.format_cn_date(local.date())}{local:%H:%M}"


def hours_text(hours: Decimal) -> str:
    """40.0 → 40, 2.5 → 2.5."""
    text = f"{hours:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def line_name(case) -> str:
    line = case.policy.product.line(case.line_code)
    return line.name if line is not None else case.line_code


def service_name(case) -> str:
    """The line's name as "…服务" without doubling it: 国内就医陪诊服务, but 海外就医综合服务 (not …服务服务)."""
    name = line_name(case)
    return name if name.endswith("服务") else f"{name}服务"
