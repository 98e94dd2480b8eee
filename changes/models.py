"""Change control (DESIGN.md §3.1, §4 "Filing categories"): owned by whoever raises the change (the CMO, or a
sponsor for its own products), one record for every sponsor it affects.

Each affected product is a line pointing at one partnership, and so at one sponsor, exactly as in deviations: the
sponsor sees the change through its own lines and only those. What the owner computes for a sponsor (its filing
assessments, its approval route and notification clock) carries that sponsor as a column; what the sponsor decides
(its filing decisions, its signed approval) is the sponsor's own row pointing at the owner's. So no row is ever
shown half to anyone, and the CMO can never write the sponsor's decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agreements.catalogue import ChangeClass
from changes.filing_rules import FilingCategory
from tenants.models import Organization, Partnership, Product, Site, StoredFile


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ChangeRequest(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ASSESSMENT = "assessment", "Impact assessed"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        APPROVED = "approved", "Approved"
        IMPLEMENTED = "implemented", "Implemented (effectiveness review due)"
        EFFECTIVENESS_REVIEW = "effectiveness_review", "Effectiveness reviewed (pending closure)"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="change_requests",
                                     help_text="The owner: the CMO, or a sponsor raising a change to its own products")
    number = models.CharField(max_length=20, help_text="CHG-<year>-<sequence>, per organization")
    title = models.CharField(max_length=200)
    description = models.TextField()
    reason = models.TextField(help_text="Why the change is needed")
    change_type = models.CharField(max_length=30, choices=ChangeClass.choices)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="The owner's site where the change is made")
    proposed_implementation_date = models.DateField()
    permanent = models.BooleanField(default=True)
    temporary_until = models.DateField(null=True, blank=True, help_text="For a temporary change: when it ends")
    #: The impact questionnaire's answers (changes.questionnaire), validated against the change type's questions.
    answers = models.JSONField(default=dict, blank=True)
    risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, blank=True)
    risk_rationale = models.TextField(blank=True)
    state = models.CharField(max_length=30, choices=State.choices, default=State.DRAFT)
    assessed_at = models.DateTimeField(null=True, blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    implemented_at = models.DateTimeField(null=True, blank=True)
    implemented_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    effectiveness_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                               related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    #: Each submission for approval opens a new round; withdrawing (to revise after a rejection) ends it. Routes
    #: and approvals carry their round, so earlier rounds stay as history and never count toward the current one.
    approval_round = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="change_number_once"),
            models.CheckConstraint(condition=Q(permanent=True) | Q(temporary_until__isnull=False),
                                   name="change_temporary_has_end",
                                   violation_error_code="temporary_end",
                                   violation_error_message="A temporary change needs the date it ends."),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="change_owner_state")]

    constraint_fields = {"temporary_end": "temporary_until"}

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state not in (self.State.CLOSED, self.State.CANCELLED)

    @property
    def live_round(self) -> int:
        """The approval round in force. While the change is drafted or revised (after a withdrawal) none is: the
        round it was withdrawn from is history, and the next submission opens ``approval_round + 1``."""
        revising = self.state in (self.State.DRAFT, self.State.ASSESSMENT)
        return self.approval_round + 1 if revising else self.approval_round

    @property
    def is_editable(self) -> bool:
        """The description and the impact assessment change until the change goes for approval."""
        return self.state in (self.State.DRAFT, self.State.ASSESSMENT)


class AffectedProduct(models.Model):
    """One product the change touches: the line one sponsor sees, and only that sponsor."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="lines")
    #: Copied: the change's owner and the sponsor the partnership names (row-level security reads these columns,
    #: never the change, so the policies cannot recurse).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    #: The partnership's manufacturer. For a sponsor's own change it is the CMO that makes the product: it sees the
    #: change (read-only) through this line, as it must implement what its sponsor changes.
    cmo = models.ForeignKey(Organization, null=True, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    owner_field = "organization"

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["change", "product"], name="change_product_once")]
        indexes = [models.Index(fields=["sponsor", "change"], name="change_line_sponsor"),
                   models.Index(fields=["cmo", "change"], name="change_line_cmo")]

    def __str__(self) -> str:
        return self.product.code


class SponsorRoute(models.Model):
    """What one affected partnership's agreement asks of this change, fixed when it goes for approval: the
    sponsor's signed approval, or only a notification before implementation (with its clock)."""

    class Requirement(models.TextChoices):
        APPROVAL = "approval", "Sponsor approval required"
        NOTIFY = "notify", "Notification only"

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="routes")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    requirement = models.CharField(max_length=10, choices=Requirement.choices)
    round = models.PositiveIntegerField(default=1, help_text="The change's approval round this route belongs to")
    #: Where the requirement came from ("Quality agreement QA-… v2", or the conservative defaults) and why.
    source = models.CharField(max_length=300)
    lead_days = models.PositiveIntegerField(null=True, blank=True,
                                            help_text="Notification only: days of notice before implementation")
    deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["change", "partnership", "round"], name="change_route_once")]
        indexes = [models.Index(fields=["sponsor", "change"], name="change_route_sponsor")]

    def __str__(self) -> str:
        return f"{self.get_requirement_display()} (organization {self.sponsor_id})"


class FilingAssessment(models.Model):
    """The suggested filing category for one affected product in one market, from the rule table (owner's row)."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="assessments")
    line = models.ForeignKey(AffectedProduct, on_delete=models.CASCADE, related_name="assessments")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    market = models.CharField(max_length=2, help_text="Where the product is marketed: US, EU, UK, …")
    suggested_category = models.CharField(max_length=20, choices=FilingCategory.choices)
    rule_id = models.CharField(max_length=40, blank=True)
    rule_text = models.TextField(help_text="The rule that fired, shown as the rationale")
    rules_version = models.CharField(max_length=20)
    #: Answers changed before approval: a newer assessment replaced this one (kept, with any decision on it).
    superseded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["line_id", "market", "id"]
        indexes = [models.Index(fields=["sponsor", "change"], name="filing_assessment_sponsor"),
                   models.Index(fields=["change", "superseded"], name="filing_assessment_current")]

    def __str__(self) -> str:
        return f"{self.market}: {self.get_suggested_category_display()}"

    @property
    def needs_decision(self) -> bool:
        return self.suggested_category != FilingCategory.NOT_ASSESSED


class FilingDecision(models.Model):
    """The product owner's (sponsor's) confirmation or override of a suggested category: its own row.

    For a prior-approval supplement or a Type II variation the sponsor later records the agency's approval here;
    the change cannot be implemented before."""

    assessment = models.OneToOneField(FilingAssessment, on_delete=models.PROTECT, related_name="decision")
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The sponsor that owns the product (and its marketing authorization)")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                            help_text="The change's owner (the sponsor itself for its own change)")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    confirmed_category = models.CharField(max_length=20, choices=FilingCategory.choices)
    override_reason = models.TextField(blank=True, help_text="Why the category differs from the suggestion")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by_name = models.CharField(max_length=200)
    decided_at = models.DateTimeField(default=timezone.now)
    agency_approved_on = models.DateField(null=True, blank=True,
                                          help_text="Prior-approval filings: the date the agency approved it")
    agency_reference = models.CharField(max_length=100, blank=True)
    approval_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    approval_recorded_at = models.DateTimeField(null=True, blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["cmo", "change"], name="filing_decision_owner")]

    def __str__(self) -> str:
        return f"{self.get_confirmed_category_display()} (confirmed by {self.decided_by_name})"

    @property
    def overridden(self) -> bool:
        return self.confirmed_category != self.assessment.suggested_category

    @property
    def needs_agency_approval(self) -> bool:
        return self.confirmed_category in FilingCategory.prior_approval()


class Approval(models.Model):
    """A sponsor's signed decision on a change its agreement makes it approve: its own row (exists only signed)."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The sponsor that decides")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                            help_text="The change's owner")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    round = models.PositiveIntegerField(default=1, help_text="The change's approval round this decision belongs to")
    comment = models.TextField(blank=True, help_text="Conditions of the approval, or why it is rejected")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [models.UniqueConstraint(fields=["change", "partnership", "round"],
                                               name="change_approval_once")]
        indexes = [models.Index(fields=["cmo", "change"], name="change_approval_owner")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by organization {self.organization_id}"


class EffectivenessReview(models.Model):
    """The owner's review of whether the implemented change achieved its purpose: its own row, so that the
    closure signature binds the review together with the change, while the change's approval signature keeps
    matching the change as approved."""

    change = models.OneToOneField(ChangeRequest, on_delete=models.PROTECT, related_name="effectiveness_review")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    effective = models.BooleanField(help_text="The verdict: the change achieved its purpose without side effects")
    summary = models.TextField(help_text="What was checked, and the evidence")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    def __str__(self) -> str:
        return f"Effectiveness review: {'effective' if self.effective else 'not effective'}"


class ChangeDocument(models.Model):
    """A document linked to a change after its approval (implementation record, validation report, updated
    procedure, filing correspondence): the bytes and SHA-256 are the stored file's; every sponsor that sees the
    change sees its documents. The stored file is attached to this row, not to the change: a signature binds the
    files attached to its record, and a document linked after approval must not alter what the approval signed.
    (``file`` is empty only inside the transaction that creates the row and then stores its file.)"""

    class Kind(models.TextChoices):
        IMPLEMENTATION_RECORD = "implementation", "Implementation record"
        VALIDATION_REPORT = "validation", "Validation / qualification report"
        PROCEDURE = "procedure", "Updated procedure or master record"
        FILING = "filing", "Regulatory filing or agency correspondence"
        OTHER = "other", "Other"

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="documents")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    file = models.OneToOneField(StoredFile, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["change", "kind"], name="change_document_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title or self.stored.original_name}"

    @property
    def stored(self) -> StoredFile:
        """The stored file; every committed document has one (``file`` is empty only while it is being created)."""
        if self.file is None:
            raise StoredFile.DoesNotExist(f"Change document {self.pk} has no stored file yet.")
        return self.file
