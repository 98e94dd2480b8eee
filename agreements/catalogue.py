"""What a quality agreement must contain: sections, GMP activities, notification events, release models, change
classes, and the regulatory ceilings its windows must respect (DESIGN.md §4; FDA guidance "Contract
Manufacturing Arrangements for Drugs: Quality Agreements", Nov 2016; EU GMP chapter 7).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from clocks.calendars import CalendarCode, Unit


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    guidance: str


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("scope", "Scope", "Products, sites, services and stages the agreement covers."),
    SectionSpec("definitions", "Definitions", "Terms used in this agreement (batch, deviation, critical, ...)."),
    SectionSpec("dispute_resolution", "Dispute resolution", "How quality disagreements are escalated and settled."),
    SectionSpec("quality_unit_activities", "Quality-unit activities",
                "What each quality unit does; the CMO quality unit's independence (21 CFR 211.22)."),
    SectionSpec("facilities_equipment", "Facilities and equipment",
                "Qualification, maintenance, dedicated or shared equipment, cleaning validation."),
    SectionSpec("materials", "Materials management",
                "Supplier qualification, incoming testing, who supplies which materials."),
    SectionSpec("product_specific_terms", "Product-specific terms",
                "Specifications, master batch records, process parameters, stability commitments."),
    SectionSpec("laboratory_controls", "Laboratory controls", "Methods, OOS investigations, reference standards."),
    SectionSpec("documentation_records", "Documentation and records",
                "Batch records, retention periods, data integrity, access to original records."),
    SectionSpec("change_control", "Change control",
                "What the CMO may change without telling the sponsor; what needs approval or notice."),
    SectionSpec("subcontracting", "Subcontracting", "Sub-tier contractors only with the sponsor's written consent."),
    SectionSpec("audits", "Audits and inspections", "Right to audit, routine cadence, for-cause audits."),
    SectionSpec("notifications", "Notifications",
                "Form 482, 483, Warning Letter, deviations, OOS, recall, field alerts, complaints: who, how fast."),
    SectionSpec("life_cycle", "Life cycle and revision", "Periodic review, amendment and version control."),
    SectionSpec("termination_handover", "Termination and handover",
                "Return of master batch records, retained samples, stability inventory, data."),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)


@dataclass(frozen=True)
class ActivitySpec:
    code: str
    name: str
    critical: bool


ACTIVITIES: tuple[ActivitySpec, ...] = (
    ActivitySpec("raw_material_qualification", "Raw-material qualification", True),
    ActivitySpec("supplier_audits", "Supplier audits", False),
    ActivitySpec("in_process_control", "In-process control", True),
    ActivitySpec("batch_record_review", "Batch record review", True),
    ActivitySpec("batch_release", "Batch release", True),
    ActivitySpec("qp_certification", "QP certification", True),
    ActivitySpec("stability_programme", "Stability programme", True),
    ActivitySpec("complaint_handling", "Complaint handling", True),
    ActivitySpec("recall", "Recall", True),
    ActivitySpec("regulatory_reporting", "Regulatory reporting (FAR/BPDR)", True),
    ActivitySpec("retained_samples", "Retained samples", False),
    ActivitySpec("change_control", "Change control", True),
    ActivitySpec("deviation_handling", "Deviation handling", True),
    ActivitySpec("oos_investigation", "OOS investigation", True),
    ActivitySpec("capa", "CAPA", True),
    ActivitySpec("annual_product_review", "Annual product review", False),
    ActivitySpec("process_validation", "Process validation", True),
    ActivitySpec("cleaning_validation", "Cleaning validation", True),
    ActivitySpec("equipment_qualification", "Equipment qualification", True),
    ActivitySpec("environmental_monitoring", "Environmental monitoring", True),
    ActivitySpec("training", "Training", False),
    ActivitySpec("document_control", "Documentation control", False),
    ActivitySpec("labelling", "Labelling", True),
    ActivitySpec("shipping_distribution", "Shipping and distribution", False),
    ActivitySpec("regulatory_filings", "Regulatory filings", True),
    ActivitySpec("subcontractor_approval", "Subcontractor approval", True),
)


class NotificationEvent(models.TextChoices):
    FORM_482 = "form_482", "FDA Form 482 received (inspection notice)"
    FDA_483 = "fda_483", "FDA Form 483 issued"
    WARNING_LETTER = "warning_letter", "Warning Letter"
    CRITICAL_DEVIATION = "critical_deviation", "Critical deviation"
    MAJOR_DEVIATION = "major_deviation", "Major deviation"
    MINOR_DEVIATION = "minor_deviation", "Minor deviation"
    OOS = "oos", "Out-of-specification result"
    RECALL = "recall", "Recall"
    FIELD_ALERT = "field_alert", "Field alert (FAR)"
    COMPLAINT = "complaint", "Complaint"


class ReleaseModel(models.TextChoices):
    CMO_THEN_SPONSOR = "cmo_then_sponsor", "CMO release, then sponsor release"
    SPONSOR_ONLY = "sponsor_only", "Sponsor-only release"
    QP_CERTIFICATION = "qp_certification", "QP certification after CMO release (EU)"


class ChangeClass(models.TextChoices):
    PROCESS = "process", "Process"
    EQUIPMENT = "equipment", "Equipment"
    EQUIPMENT_LIKE_FOR_LIKE = "equipment_like_for_like", "Equipment: like-for-like replacement"
    FACILITY = "facility", "Facility / utility"
    MATERIALS = "materials", "Materials / supplier"
    ANALYTICAL_METHOD = "analytical_method", "Analytical method"
    SPECIFICATION = "specification", "Specification"
    BATCH_SIZE = "batch_size", "Batch size / scale"
    SITE = "site", "Site"
    PACKAGING = "packaging", "Packaging / labelling"
    COMPUTERIZED_SYSTEM = "computerized_system", "Computerized system"
    SUBCONTRACTOR = "subcontractor", "Subcontractor"


@dataclass(frozen=True)
class Window:
    amount: int
    unit: str
    calendar: str | None = None

    def hours(self) -> float:
        """A rough size for comparing windows of different units (business day ≈ 24 h of a working week)."""
        per = {Unit.HOURS: 1, Unit.CALENDAR_DAYS: 24, Unit.BUSINESS_DAYS: 24 * 7 / 5}
        return self.amount * per[Unit(self.unit)]


US = CalendarCode.US_FEDERAL

#: Conservative defaults: what applies, with a visible warning, when a partnership has no effective agreement.
DEFAULT_WINDOWS: dict[str, Window] = {
    NotificationEvent.FORM_482: Window(1, Unit.BUSINESS_DAYS, US),
    NotificationEvent.FDA_483: Window(1, Unit.BUSINESS_DAYS, US),
    NotificationEvent.WARNING_LETTER: Window(1, Unit.BUSINESS_DAYS, US),
    NotificationEvent.CRITICAL_DEVIATION: Window(24, Unit.HOURS),
    NotificationEvent.MAJOR_DEVIATION: Window(3, Unit.BUSINESS_DAYS, US),
    NotificationEvent.MINOR_DEVIATION: Window(30, Unit.CALENDAR_DAYS),
    NotificationEvent.OOS: Window(2, Unit.BUSINESS_DAYS, US),
    NotificationEvent.RECALL: Window(24, Unit.HOURS),
    NotificationEvent.FIELD_ALERT: Window(24, Unit.HOURS),
    NotificationEvent.COMPLAINT: Window(5, Unit.BUSINESS_DAYS, US),
}

#: Longest window that still leaves the sponsor its regulatory clock, with the reason shown when exceeded.
REGULATORY_CEILINGS: dict[str, tuple[Window, str]] = {
    NotificationEvent.FIELD_ALERT: (Window(1, Unit.BUSINESS_DAYS, US),
                                    "the sponsor must file a Field Alert Report within 3 working days "
                                    "(21 CFR 314.81(b)(1)); a longer window leaves it less than 2"),
    NotificationEvent.FDA_483: (Window(5, Unit.BUSINESS_DAYS, US),
                                "the 483 response is due to FDA in 15 business days (74 FR 40211); a longer "
                                "window leaves the sponsor under two weeks to assess its impact"),
    NotificationEvent.WARNING_LETTER: (Window(5, Unit.BUSINESS_DAYS, US),
                                       "a Warning Letter reply is due in 15 working days"),
    NotificationEvent.CRITICAL_DEVIATION: (Window(72, Unit.HOURS),
                                           "a critical deviation may need a field alert or a BPDR; industry "
                                           "practice is 24-72 hours"),
    NotificationEvent.RECALL: (Window(24, Unit.HOURS), "a recall decision cannot wait on the CMO"),
}

DEFAULT_CLOSURE_DAYS = 30
DEFAULT_SPONSOR_APPROVAL = (ChangeClass.PROCESS, ChangeClass.SPECIFICATION, ChangeClass.ANALYTICAL_METHOD,
                            ChangeClass.SITE, ChangeClass.BATCH_SIZE, ChangeClass.MATERIALS,
                            ChangeClass.SUBCONTRACTOR, ChangeClass.EQUIPMENT, ChangeClass.FACILITY)
DEFAULT_NOTIFY_ONLY = (ChangeClass.EQUIPMENT_LIKE_FOR_LIKE, ChangeClass.PACKAGING, ChangeClass.COMPUTERIZED_SYSTEM)
DEFAULT_NOTICE_LEAD_DAYS = 30
DEFAULT_REVIEW_MONTHS = 24
DEFAULT_BATCH_REVIEW_DAYS = 10
