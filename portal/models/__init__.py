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
from .ops import Alert, AuditLog, DataGeneration, HolidayOverride, JobLease, JobRun, WeeklyReport
from .product import Product, ServiceLine
from .services import Appointment, Bill, EscortAssignment, EscortHourLog, VisaApplication

__all__ = [
    "CHANNELS", "ID_TYPES", "OPEN_STATUSES", "ROLES", "STAFF_ROLES", "STATUSES",
    "Alert", "AppendOnlyError", "Appointment", "AuditLog", "Bill", "Case", "CaseEvent", "DataGeneration",
    "Document", "DocumentRequest", "Entitlement", "EntitlementEntry", "Escort",
    "EscortAssignment", "EscortHourLog", "Expert", "FormSubmission", "ServiceRating", "HolidayOverride", "Hospital",
    "InsuredPerson", "JobLease", "JobRun", "Notification", "Policy", "Product",
    "ServiceLine", "SlaClock", "UTCDateTime", "User", "VisaApplication", "WeeklyReport",
    "utcnow",
]
