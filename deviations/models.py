"""Deviations: owned by the CMO, one record for every sponsor it affects (DESIGN.md §3.1).

Each affected product is a line pointing at one partnership, and so at one sponsor; the sponsor's visibility of
the deviation follows from its lines (row-level security), and it sees only its own lines. What the CMO tells a
sponsor (notices), what a sponsor answers (acknowledgements, comments) and what the CMO's quality head reviews
(consistency flags) are separate rows with their own owners, so no row has to be shown half to anyone.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.models import Organization, Partnership, Product, Site


class Classification(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class Category(models.TextChoices):
    MANUFACTURING = "manufacturing", "Manufacturing / process"
    LABORATORY = "laboratory", "Laboratory / testing"
    FACILITY = "facility", "Facility / utility / environment"
    EQUIPMENT = "equipment", "Equipment"
    MATERIALS = "materials", "Materials / components"
    PACKAGING = "packaging", "Packaging / labelling"
    DOCUMENTATION = "documentation", "Documentation / data integrity"
    STORAGE = "storage", "Storage / distribution"
    COMPUTERIZED = "computerized", "Computerized system"
    OTHER = "other", "Other"


class InvestigationMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", "5 Whys"
    ISHIKAWA = "ishikawa", "Ishikawa (fishbone)"
    FAULT_TREE = "fault_tree", "Fault-tree analysis"
    FMEA = "fmea", "FMEA"
    KEPNER_TREGOE = "kepner_tregoe", "Kepner-Tregoe"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    """The structured conclusion: what the cross-sponsor consistency check compares (besides classification)."""

    NO_IMPACT = "no_impact", "No impact on product quality"
    IMPACT_CONTAINED = "impact_contained", "Impact assessed and contained (batches releasable)"
    BATCHES_REJECTED = "batches_rejected", "Product impact: batches rejected"
    INCONCLUSIVE = "inconclusive", "Inconclusive (justified)"


class Deviation(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open (reported)"
        UNDER_INVESTIGATION = "under_investigation", "Under investigation"
        PENDING_APPROVAL = "pending_approval", "Pending QA approval"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="deviations",
                                     help_text="The CMO: it owns the write-up, the root cause and the conclusion")
    number = models.CharField(max_length=20, help_text="DEV-<year>-<sequence>, per organization")
    title = models.CharField(max_length=200)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    area_equipment = models.CharField("area / equipment", max_length=200, blank=True)
    process_step = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.MANUFACTURING)
    discovered_at = models.DateTimeField()
    discovered_by = models.CharField(max_length=200, help_text="Who discovered it (name and function)")
    description = models.TextField()
    immediate_actions = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    classification = models.CharField(max_length=10, choices=Classification.choices, blank=True)
    classification_rationale = models.TextField(blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    investigation_method = models.CharField(max_length=20, choices=InvestigationMethod.choices, blank=True)
    findings = models.TextField(blank=True)
    root_cause_code = models.CharField(max_length=20, blank=True)
    root_cause_version = models.CharField(max_length=10, blank=True)
    #: The code's name when it was chosen, so the record stays readable (and signed) as it was.
    root_cause_label = models.CharField(max_length=250, blank=True)
    conclusion = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    capa_not_required_reason = models.TextField(blank=True, help_text="Why a repeat deviation needs no CAPA")
    is_repeat = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    reopen_reason = models.TextField(blank=True)
    closure_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="deviation_number_once")]
        indexes = [
            models.Index(fields=["organization", "state"], name="deviation_owner_state"),
            models.Index(fields=["organization", "site", "root_cause_code"], name="deviation_repeat_lookup"),
            models.Index(fields=["organization", "root_cause_code"], name="deviation_cause_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state not in (self.State.CLOSED, self.State.CANCELLED)

    @property
    def is_editable(self) -> bool:
        """The write-up can change until it goes for approval (after that: reopen, with a reason)."""
        return self.state in (self.State.DRAFT, self.State.OPEN, self.State.UNDER_INVESTIGATION)


class AffectedProduct(models.Model):
    """One product (and its batches) the deviation touches: the line one sponsor sees, and only that sponsor."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="lines")
    #: Copied: the CMO that owns the deviation, and the sponsor the partnership names (row-level security reads
    #: these columns, never the deviation, so the policies cannot recurse).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    batch_numbers = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    impact = models.TextField(blank=True, help_text="Product-impact assessment for this product")

    owner_field = "organization"

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["deviation", "product"], name="deviation_product_once")]
        indexes = [models.Index(fields=["sponsor", "deviation"], name="line_sponsor_deviation")]

    def __str__(self) -> str:
        return f"{self.product.code}: {', '.join(self.batch_numbers) or 'no batch'}"


class RootCauseCode(models.Model):
    """A sub-code an organization adds under one of the standard categories (taxonomy.CATEGORIES)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    parent = models.CharField(max_length=10, help_text="The standard category it refines, e.g. MAC")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="own_cause_once",
                                               violation_error_code="duplicate_cause",
                                               violation_error_message="Your taxonomy already has this code.")]

    constraint_fields = {"duplicate_cause": "code"}

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Notice(models.Model):
    """The CMO telling one sponsor about the deviation (per classification): the evidence its clock was met."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="notices")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    classification = models.CharField(max_length=10, choices=Classification.choices)
    deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    message = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recipients = models.PositiveIntegerField(default=0, help_text="Sponsor members the notice went to")
    superseded = models.BooleanField(default=False, help_text="A reclassification replaced it")
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sponsor", "deviation"], name="notice_sponsor_deviation")]

    def __str__(self) -> str:
        return f"{self.get_classification_display()} deviation notice to organization {self.sponsor_id}"


class Acknowledgement(models.Model):
    """The sponsor's receipt of a notice: its own row, pointing at the CMO's."""

    notice = models.OneToOneField(Notice, on_delete=models.PROTECT, related_name="acknowledgement")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_by_name = models.CharField(max_length=200)
    acknowledged_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    owner_field = "organization"

    def __str__(self) -> str:
        return f"Acknowledged by {self.acknowledged_by_name} at {self.acknowledged_at:%Y-%m-%d %H:%M} UTC"


class Comment(models.Model):
    """Product-knowledge input from a sponsor, or the CMO's answer to one sponsor (or a CMO-internal note).

    ``sponsor`` names the one sponsor whose thread it is; nobody else's sponsor ever sees it.
    """

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="comments")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The author's organization")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="The sponsor thread it belongs to; empty for a CMO-internal note")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["deviation", "created_at"], name="comment_deviation")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author_name}"


class TimelineEntry(models.Model):
    """What happened to the deviation, in words, for everyone who sees it (``sponsor`` set: only that sponsor)."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="timeline")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    actor_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()

    owner_field = "organization"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["deviation", "at"], name="timeline_deviation")]

    def __str__(self) -> str:
        return self.text


class ExtensionRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="extensions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    requested_due_date = models.DateField()
    justification = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["deviation"], condition=Q(state="pending"),
                                               name="one_pending_extension",
                                               violation_error_code="pending_extension",
                                               violation_error_message="An extension request is already pending.")]

    constraint_fields = {"pending_extension": "requested_due_date"}

    def __str__(self) -> str:
        return f"Extension to {self.requested_due_date} ({self.get_state_display().lower()})"


class RepeatLink(models.Model):
    """``deviation`` repeats ``earlier``: same site, same root cause, same equipment or step, within 12 months."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="repeat_links")
    earlier = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="repeated_by")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    matched_on = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["-earlier__discovered_at"]
        constraints = [models.UniqueConstraint(fields=["deviation", "earlier"], name="repeat_link_once")]

    def __str__(self) -> str:
        return f"repeats deviation {self.earlier_id} ({self.matched_on})"


class ConsistencyFlag(models.Model):
    """Two deviations of the same root cause and process step, for different sponsors, concluded differently:
    for the CMO quality head to review (quality-unit independence, DESIGN.md §4). The CMO alone sees it."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        REVIEWED = "reviewed", "Reviewed (difference justified)"
        RESOLVED = "resolved", "Resolved (now consistent)"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    first = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="+")
    root_cause_code = models.CharField(max_length=20)
    process_step = models.CharField(max_length=200)
    differences = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="consistency_pair_once"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="consistency_pair_ordered"),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="consistency_owner_state")]

    def __str__(self) -> str:
        return f"Consistency flag {self.first_id}/{self.second_id}: {self.differences}"
