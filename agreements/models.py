"""Quality agreements: versioned, jointly owned by both parties of a partnership, signed by both quality units.

An agreement is the one record both parties write (DESIGN.md §3.5): sponsor and CMO edit its drafts, the audit
trail says who changed what, and both QA approvers sign it. Its content is self-contained (RACI rows copy the
activity's name and criticality), so what was signed is exactly what is stored. Other apps read its typed terms
through ``agreements.selectors.effective_terms``; nothing else hard-codes them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agreements.catalogue import (
    DEFAULT_BATCH_REVIEW_DAYS,
    DEFAULT_CLOSURE_DAYS,
    DEFAULT_NOTICE_LEAD_DAYS,
    DEFAULT_REVIEW_MONTHS,
    SECTIONS,
    ChangeClass,
    NotificationEvent,
    ReleaseModel,
)
from clocks.calendars import CalendarCode, Unit
from tenants.models import Organization, Partnership

RACI_LETTERS = RegexValidator(r"^R?A?C?I?$", "Use the letters R, A, C and I, in that order, each at most once.")


class QualityAgreement(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved (not yet effective)"
        EFFECTIVE = "effective", "Effective"
        SUPERSEDED = "superseded", "Superseded"
        TERMINATED = "terminated", "Terminated"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agreements")
    #: Copied from the partnership: both parties own the agreement (row-level security and the audit chain).
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="Version number within the partnership, from 1")
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    effective_from = models.DateField(null=True, blank=True)
    effective_until = models.DateField(null=True, blank=True, help_text="Set when superseded or terminated")
    review_interval_months = models.PositiveSmallIntegerField(
        default=DEFAULT_REVIEW_MONTHS, validators=[MinValueValidator(1), MaxValueValidator(60)])
    next_review_date = models.DateField(null=True, blank=True)
    # Typed terms (DESIGN.md §4 "Quality agreement content").
    release_model = models.CharField(max_length=20, choices=ReleaseModel.choices, blank=True)
    deviation_closure_days = models.PositiveSmallIntegerField(
        default=DEFAULT_CLOSURE_DAYS, validators=[MinValueValidator(1), MaxValueValidator(365)])
    batch_review_days = models.PositiveSmallIntegerField(
        default=DEFAULT_BATCH_REVIEW_DAYS, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Business days the sponsor has to review a batch released by the CMO")
    change_sponsor_approval = ArrayField(models.CharField(max_length=30, choices=ChangeClass.choices),
                                         default=list, blank=True)
    change_notify_only = ArrayField(models.CharField(max_length=30, choices=ChangeClass.choices),
                                    default=list, blank=True)
    change_notice_lead_days = models.PositiveSmallIntegerField(default=DEFAULT_NOTICE_LEAD_DAYS)
    audit_right = models.BooleanField(default=True)
    audit_cadence_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(60)])
    checks_override = models.TextField(blank=True, help_text="Signed justification for approving despite checks")
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    termination_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    class Meta:
        ordering = ["partnership_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "number"], name="agreement_number_once"),
            models.UniqueConstraint(fields=["partnership"], condition=Q(state="effective"),
                                    name="one_effective_agreement_per_partnership"),
        ]
        indexes = [models.Index(fields=["partnership", "state", "effective_from"], name="agreement_effective")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def owner_organization_ids(self) -> tuple[int, int]:
        """Both parties own (and may edit drafts of) their joint agreement."""
        return self.sponsor_id, self.cmo_id

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


class AgreementSection(models.Model):
    agreement = models.ForeignKey(QualityAgreement, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=40, choices=[(s.key, s.title) for s in SECTIONS])
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown: headings, lists, emphasis, tables, links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["agreement", "key"], name="section_once")]

    def __str__(self) -> str:
        return self.title


class GmpActivity(models.Model):
    """The RACI catalogue: the standard activities (no organization) plus an organization's own."""

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    critical = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(organization__isnull=True),
                                    name="standard_activity_once"),
            models.UniqueConstraint(fields=["organization", "code"], name="own_activity_once",
                                    violation_error_code="duplicate_activity",
                                    violation_error_message="Your catalogue already has an activity with this code."),
        ]

    constraint_fields = {"duplicate_activity": "code"}

    def __str__(self) -> str:
        return self.name


class RaciRow(models.Model):
    """Who is Responsible, Accountable, Consulted, Informed for one GMP activity, per party."""

    agreement = models.ForeignKey(QualityAgreement, on_delete=models.CASCADE, related_name="raci")
    activity_code = models.SlugField(max_length=50)
    activity_name = models.CharField(max_length=200)
    critical = models.BooleanField(default=False)
    sponsor = models.CharField(max_length=4, blank=True, validators=[RACI_LETTERS])
    cmo = models.CharField(max_length=4, blank=True, validators=[RACI_LETTERS])
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "activity_code"], name="raci_activity_once")]

    def __str__(self) -> str:
        return f"{self.activity_name}: sponsor {self.sponsor or '-'}, CMO {self.cmo or '-'}"


class NotificationWindow(models.Model):
    """How fast the CMO must tell the sponsor of an event, on a named calendar."""

    agreement = models.ForeignKey(QualityAgreement, on_delete=models.CASCADE, related_name="windows")
    event = models.CharField(max_length=20, choices=NotificationEvent.choices)
    amount = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(365)])
    unit = models.CharField(max_length=20, choices=Unit.choices)
    calendar = models.CharField(max_length=20, choices=CalendarCode.choices, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "event"], name="window_once")]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.amount} {self.get_unit_display()}"


class DataSharingTerm(models.Model):
    agreement = models.ForeignKey(QualityAgreement, on_delete=models.CASCADE, related_name="data_sharing")
    data = models.CharField(max_length=200, help_text="e.g. 'Executed batch records', 'Stability data'")
    format = models.CharField(max_length=100, help_text="e.g. 'PDF via the QMS', 'CSV'")
    frequency = models.CharField(max_length=100, help_text="e.g. 'per batch', 'quarterly'")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.data} ({self.format}, {self.frequency})"


class SubcontractorConsent(models.Model):
    """A sub-tier organization and site the CMO may use, for named activities, once the sponsor has signed."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed (not approved)"
        APPROVED = "approved", "Approved by the sponsor"
        WITHDRAWN = "withdrawn", "Withdrawn"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="subcontractors")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    subcontractor = models.CharField(max_length=200)
    site = models.CharField(max_length=200)
    country = models.CharField(max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO code.")])
    activities = ArrayField(models.SlugField(max_length=50))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    withdrawn_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["subcontractor", "site"]

    def __str__(self) -> str:
        return f"{self.subcontractor}, {self.site} ({self.country})"

    def owner_organization_ids(self) -> tuple[int, int]:
        return self.sponsor_id, self.cmo_id
