"""Regulator inspections, Form 483 observations and the dual-track response (DESIGN.md §3.1, §4).

An inspection is the CMO's record, at one of its sites. The sponsors it concerns are scope rows (partnership,
sponsor, optional product; for a pre-approval inspection the sponsor's application): a sponsor sees the
inspection only through its own scope rows, never another sponsor's. An observation is visible to every sponsor in
scope when it concerns the site's systems (site-wide), and only to the sponsors of its affected products when it
is product-specific; what the CMO decides for one sponsor (its notices and clocks, its program impact per
observation) carries that sponsor as a column, and what a sponsor writes (acknowledgements, comments on draft
responses) is its own row. The live inspection log is the CMO's back room: no sponsor ever sees it.

Row-level security states the same rules (migration 0002); the selectors narrow the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from agreements.catalogue import NotificationEvent
from inspections.taxonomy import Subpart, System
from tenants.models import Organization, Partnership, Product, Site, StoredFile


class Authority(models.TextChoices):
    FDA = "fda", "US FDA"
    EMA_MEMBER_STATE = "ema_member_state", "EU member-state authority (EMA)"
    MHRA = "mhra", "UK MHRA"
    HEALTH_CANADA = "health_canada", "Health Canada"
    PMDA = "pmda", "Japan PMDA"
    OTHER_PICS = "other_pics", "Other PIC/S authority"


class InspectionType(models.TextChoices):
    PRE_APPROVAL = "pre_approval", "Pre-approval (PAI)"
    PRE_LICENCE = "pre_licence", "Pre-licence (PLI)"
    ROUTINE = "routine", "Routine surveillance"
    FOR_CAUSE = "for_cause", "For-cause"
    FOLLOW_UP = "follow_up", "Follow-up"


class Outcome(models.TextChoices):
    """FDA's classifications, and the equivalents other authorities give (a GMP certificate or a statement of
    non-compliance)."""

    NAI = "nai", "NAI — no action indicated"
    VAI = "vai", "VAI — voluntary action indicated"
    OAI = "oai", "OAI — official action indicated"
    COMPLIANT = "compliant", "Compliant (GMP certificate issued)"
    NON_COMPLIANT = "non_compliant", "Non-compliant (statement of non-compliance)"


class Inspection(models.Model):
    class State(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED_OUT = "closed_out", "Closed out (awaiting outcome)"
        CLOSED = "closed", "Closed (outcome recorded)"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="inspections",
                                     help_text="The CMO whose site is inspected")
    number = models.CharField(max_length=20, help_text="INS-<year>-<sequence>, per organization")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    authority = models.CharField(max_length=20, choices=Authority.choices)
    authority_name = models.CharField(max_length=200, blank=True,
                                      help_text="The inspecting body when the choice is generic, e.g. ANSM (France)")
    under_mra = models.BooleanField("performed under a Mutual Recognition Agreement", default=False)
    inspection_type = models.CharField(max_length=20, choices=InspectionType.choices)
    announced_on = models.DateField(null=True, blank=True)
    notice_received_at = models.DateTimeField(
        "Form 482 / notice of inspection received", null=True, blank=True,
        help_text="Starts each sponsor's inspection-notice clock (the agreement's Form 482 window)")
    started_on = models.DateField(null=True, blank=True)
    closed_out_on = models.DateField(null=True, blank=True, help_text="The close-out meeting")
    investigators = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)
    warning_letter_issued_on = models.DateField(null=True, blank=True)
    warning_letter_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                                related_name="+")
    warning_letter_responded_at = models.DateTimeField(null=True, blank=True)
    warning_letter_closed_on = models.DateField(null=True, blank=True,
                                                help_text="FDA's close-out letter for the Warning Letter")
    state = models.CharField(max_length=20, choices=State.choices, default=State.ANNOUNCED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="inspection_number_once")]
        indexes = [models.Index(fields=["organization", "state"], name="inspection_owner_state"),
                   models.Index(fields=["organization", "site"], name="inspection_site")]

    def __str__(self) -> str:
        return f"{self.number} {self.get_authority_display()} {self.get_inspection_type_display().lower()}"

    @property
    def is_pai(self) -> bool:
        return self.inspection_type == InspectionType.PRE_APPROVAL


class Scope(models.Model):
    """One partnership (and optionally one of its products) in the inspection's scope: the row one sponsor sees.

    For a pre-approval inspection, ``application_reference`` names the sponsor's application under review (NDA,
    BLA, ANDA); that sponsor participates in the response."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="scope")
    #: Copied: the CMO and the partnership's sponsor (row-level security reads these columns, never the inspection).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    application_reference = models.CharField(max_length=100, blank=True,
                                             help_text="PAI: the sponsor's application, e.g. NDA 212345")

    owner_field = "organization"

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["sponsor", "inspection"], name="inspection_scope_sponsor")]

    def __str__(self) -> str:
        return f"{self.product.code if self.product else 'partnership'} (organization {self.sponsor_id})"


class Document(models.Model):
    """A document of the inspection (482, 483, EIR, correspondence, Warning Letter). The file is attached to this
    row, so it is visible exactly where the row is: the CMO always, sponsors in scope only when ``shared``."""

    class Kind(models.TextChoices):
        FORM_482 = "form_482", "Form 482 (notice of inspection)"
        FORM_483 = "form_483", "Form 483 (inspectional observations)"
        EIR = "eir", "Establishment inspection report (EIR)"
        CORRESPONDENCE = "correspondence", "Correspondence"
        WARNING_LETTER = "warning_letter", "Warning Letter"
        RESPONSE = "response", "Response to the authority"
        OTHER = "other", "Other"

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="documents")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    shared = models.BooleanField(default=False, help_text="Visible to the sponsors in scope")
    file = models.OneToOneField(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["inspection", "kind"], name="inspection_document_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title or (self.file.original_name if self.file else '')}"


class LogEntry(models.Model):
    """The live inspection log (the back room): what the investigators asked for, what was provided, who was
    interviewed. Internal to the CMO, always."""

    class Kind(models.TextChoices):
        REQUEST = "request", "Request from the investigators"
        DOCUMENT_PROVIDED = "document_provided", "Document provided"
        INTERVIEW = "interview", "Interview"
        NOTE = "note", "Note"

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="log")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField()
    who = models.CharField(max_length=200, blank=True, help_text="Who asked, who was interviewed, who provided it")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    owner_field = "organization"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["inspection", "at"], name="inspection_log_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Form483(models.Model):
    """The FDA Form 483 of an inspection and the agency response (Track 1)."""

    class State(models.TextChoices):
        DRAFTING = "drafting", "Response in preparation"
        SUBMITTED = "submitted", "Response submitted (commitments open)"
        CLOSED = "closed", "Closed (all commitments closed)"

    inspection = models.OneToOneField(Inspection, on_delete=models.CASCADE, related_name="form483")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    issued_on = models.DateField(help_text="The issue date on the form (the amended form's, once amended)")
    original_issued_on = models.DateField()
    amended = models.BooleanField(default=False)
    amended_on = models.DateField(null=True, blank=True)
    amendment_reason = models.TextField(blank=True)
    response_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFTING)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_late = models.BooleanField(default=False, help_text="Submitted after the 15-business-day window")
    update_interval_days = models.PositiveIntegerField(default=30, help_text="Periodic update commitment")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["organization", "state"], name="form483_owner_state")]

    def __str__(self) -> str:
        return f"Form 483 of {self.inspection.number}" + (" (amended)" if self.amended else "")


class Accountability(models.TextChoices):
    CMO = "cmo", "CMO-originated"
    SPONSOR = "sponsor", "Sponsor-originated"
    SHARED = "shared", "Shared"


class Visibility(models.TextChoices):
    SITE_WIDE = "site_wide", "Site-wide (every sponsor in scope sees it)"
    PRODUCT_SPECIFIC = "product_specific", "Product-specific (only the affected products' sponsors see it)"


class Observation(models.Model):
    """One numbered observation of a 483, with the CMO's drafted response to it."""

    form483 = models.ForeignKey(Form483, on_delete=models.CASCADE, related_name="observations")
    #: Copied, so that row-level security can ask the inspection's scope without reading the 483.
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    text = models.TextField()
    cited_regulation = models.CharField(max_length=100, blank=True, help_text="e.g. 21 CFR 211.22(d)")
    suggested_subpart = models.CharField(max_length=1, choices=Subpart.choices, blank=True)
    suggested_system = models.CharField(max_length=20, choices=System.choices, blank=True)
    taxonomy_version = models.CharField(max_length=10, blank=True)
    subpart = models.CharField(max_length=1, choices=Subpart.choices, blank=True)
    system = models.CharField(max_length=20, choices=System.choices, blank=True)
    is_repeat = models.BooleanField(default=False)
    repeat_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    repeat_of_label = models.CharField(max_length=200, blank=True)
    accountability = models.CharField(max_length=10, choices=Accountability.choices, default=Accountability.CMO)
    accountability_rationale = models.TextField(blank=True)
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.SITE_WIDE)
    response_commitment = models.TextField(blank=True)
    response_actions = models.TextField(blank=True)
    response_target_on = models.DateField(null=True, blank=True, help_text="When the commitment will be met")
    response_evidence = models.TextField(blank=True, help_text="Evidence provided with the response")
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["number", "id"]
        constraints = [models.UniqueConstraint(fields=["form483", "number"], name="observation_number_once",
                                               violation_error_code="duplicate_observation",
                                               violation_error_message="This 483 already has an observation with "
                                                                       "this number.")]
        indexes = [models.Index(fields=["inspection", "visibility"], name="observation_visibility"),
                   models.Index(fields=["organization", "subpart"], name="observation_repeat_lookup")]

    constraint_fields = {"duplicate_observation": "number"}

    def __str__(self) -> str:
        return f"Observation {self.number}"

    @property
    def has_commitment(self) -> bool:
        return bool(self.response_commitment.strip())


class AffectedProduct(models.Model):
    """A partnership (and optionally its product) an observation affects: the line one sponsor sees."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="affected")
    form483 = models.ForeignKey(Form483, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    owner_field = "organization"

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["sponsor", "observation"], name="observation_affected_sponsor")]

    def __str__(self) -> str:
        return self.product.code if self.product else f"partnership {self.partnership_id}"


class ImpactAssessment(models.Model):
    """The CMO's assessment of one observation's impact on one sponsor's program."""

    class Impact(models.TextChoices):
        NONE = "none", "No impact"
        INDIRECT = "indirect", "Indirect impact"
        DIRECT = "direct", "Direct impact"

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="impacts")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    impact = models.CharField(max_length=10, choices=Impact.choices)
    rationale = models.TextField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_by_name = models.CharField(max_length=200)
    assessed_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["observation__number", "id"]
        constraints = [models.UniqueConstraint(fields=["observation", "partnership"], name="impact_once")]
        indexes = [models.Index(fields=["sponsor", "observation"], name="impact_sponsor")]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} (organization {self.sponsor_id})"


class CapaLink(models.Model):
    """A CAPA of the CMO answering an observation. The number and title are copied: a sponsor sees the link with
    the observation, but not the CMO's CAPA itself."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="capa_links")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    capa = models.ForeignKey("capa.Capa", on_delete=models.PROTECT, related_name="+")
    capa_number = models.CharField(max_length=20)
    capa_title = models.CharField(max_length=200)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["observation", "capa"], name="observation_capa_once")]

    def __str__(self) -> str:
        return f"{self.capa_number} {self.capa_title}"


class CommitmentClosure(models.Model):
    """The CMO closing an observation's response commitment, after submission. Its own row, so closing a
    commitment never touches the signed response."""

    observation = models.OneToOneField(Observation, on_delete=models.CASCADE, related_name="closure")
    form483 = models.ForeignKey(Form483, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    closed_on = models.DateField()
    evidence = models.TextField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    def __str__(self) -> str:
        return f"Commitment closed {self.closed_on:%Y-%m-%d}"


class UpdateCommitment(models.Model):
    """A periodic update to the agency promised in the response ("every 30 days until complete"): a clock each,
    met by recording the update."""

    form483 = models.ForeignKey(Form483, on_delete=models.CASCADE, related_name="updates")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField()
    deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    due_on = models.DateField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_late = models.BooleanField(default=False)
    summary = models.TextField(blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    cancelled_reason = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["sequence"]
        constraints = [models.UniqueConstraint(fields=["form483", "sequence"], name="update_sequence_once")]

    def __str__(self) -> str:
        return f"Update {self.sequence} due {self.due_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None and not self.cancelled_reason


class Notice(models.Model):
    """Track 2: the CMO telling one sponsor of a Form 482, a 483 or a Warning Letter, with the clock its own
    agreement sets. Met when the CMO notifies through the app."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="notices")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=20, choices=NotificationEvent.choices)
    deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    #: Where the window came from ("Quality agreement QA-… v2", or the conservative defaults).
    source = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["inspection", "partnership", "event"],
                                               name="inspection_notice_once")]
        indexes = [models.Index(fields=["sponsor", "inspection"], name="inspection_notice_sponsor")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} notice to organization {self.sponsor_id}"


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


class ResponseComment(models.Model):
    """A PAI sponsor's comment on a draft response (its own row), or the CMO's answer in that sponsor's thread.
    ``sponsor`` names the thread; no other sponsor ever sees it."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="comments")
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The author's organization")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["observation", "created_at"], name="response_comment_observation")]

    def __str__(self) -> str:
        return f"Comment by {self.author_name}"
