"""All models, importable from one place (`from portal.models import Case`)."""

from .accounts import AUDITOR_ROLES, ID_TYPES, ROLES, STAFF_ROLES, InsuredPerson, Policy, User
from .audit import AuditAnchor, AuditCheckpoint
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
from .identity import OutboundMessage, RateLimitCounter, RegistrationCode
from .ops import (
    Alert,
    AuditLog,
    DashboardSnapshot,
    FigureRollup,
    HolidayOverride,
    InsurerDelivery,
    JobLease,
    JobRun,
    LiveClockCount,
    QueueCount,
    WeeklyReport,
)
from .privacy import (
    CONSENT_CHANNELS,
    NOTICE_KINDS,
    ConsentRecord,
    DataRequest,
    Notice,
    Restriction,
    RetentionPeriod,
    Transfer,
)
from .product import Product, ServiceLine
from .services import Appointment, Bill, EscortAssignment, EscortHourLog, OutcomeCorrection, VisaApplication

__all__ = [
    "AUDITOR_ROLES", "CHANNELS", "CONSENT_CHANNELS", "ID_TYPES", "NOTICE_KINDS", "OPEN_STATUSES", "ROLES",
    "STAFF_ROLES", "STATUSES",
    "Alert", "AppendOnlyError", "Appointment", "AuditAnchor", "AuditCheckpoint", "AuditLog", "Bill", "Case",
    "CaseEvent", "CaseRefCounter", "ConsentRecord", "DashboardSnapshot", "DataRequest", "FigureRollup",
    "Document", "DocumentRequest", "Entitlement", "EntitlementEntry", "Escort",
    "EscortAssignment", "EscortHourLog", "Expert", "FormSubmission", "HolidayOverride", "Hospital", "InsurerDelivery",
    "InsuredPerson", "JobLease", "JobRun", "LiveClockCount", "Notice", "Notification", "OutboundMessage",
    "OutcomeCorrection", "Policy", "Product", "QueueCount", "RateLimitCounter", "RegistrationCode", "Restriction",
    "RetentionPeriod", "ServiceRating", "Transfer", "ServiceLine", "SlaClock", "UTCDateTime", "User",
    "VisaApplication", "WeeklyReport",
    "utcnow",
]
