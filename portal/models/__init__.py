"""All models, importable from one place (`from portal.models import Case`)."""

from .accounts import ID_TYPES, ROLES, STAFF_ROLES, InsuredPerson, Policy, User
from .base import UTCDateTime, utcnow
from .cases import (
    CHANNELS,
    OPEN_STATUSES,
    STATUSES,
    AppendOnlyError,
    Case,
    CaseEvent,
    CaseRefCounter,
    Document,
    DocumentRequest,
    Entitlement,
    EntitlementEntry,
    FormSubmission,
    Notification,
    ServiceRating,
    SlaClock,
)
from .directory import Escort, Expert, Hospital
from .ops import (
    Alert,
    AuditLog,
    HolidayOverride,
    InsurerDelivery,
    JobLease,
    JobRun,
    WeeklyReport,
)
from .product import Product, ServiceLine
from .services import Appointment, Bill, EscortAssignment, EscortHourLog, VisaApplication

__all__ = [
    "CHANNELS", "ID_TYPES", "OPEN_STATUSES", "ROLES", "STAFF_ROLES", "STATUSES",
    "Alert", "AppendOnlyError", "Appointment", "AuditLog", "Bill", "Case", "CaseEvent", "CaseRefCounter",
    "Document", "DocumentRequest", "Entitlement", "EntitlementEntry", "Escort",
    "EscortAssignment", "EscortHourLog", "Expert", "FormSubmission", "HolidayOverride", "Hospital", "InsurerDelivery",
    "ServiceRating",
    "InsuredPerson", "JobLease", "JobRun", "Notification", "Policy", "Product",
    "ServiceLine", "SlaClock", "UTCDateTime", "User", "VisaApplication", "WeeklyReport",
    "utcnow",
]
