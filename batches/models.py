"""Batch records and their release chain (DESIGN.md §4 "Release models").

The CMO owns the batch: its record (executed batch record, certificate of analysis, QC results, changes in effect)
and its own disposition. The sponsor sees the batches of its products, read-only, and writes its own rows that
point at them: its disposition (release, QP certification or rejection) and its queries. Every row carries the
CMO, the sponsor and the partnership as columns, so row-level security never has to read another table's policy.

Which dispositions a batch needs comes from the partnership's release model (``agreements``), copied onto the
batch when the CMO submits it for QA review, so a new agreement version never changes a chain half-way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agreements.catalogue import ReleaseModel
from tenants.models import Organization, Partnership, Product, Site, StoredFile


class Batch(models.Model):
    class State(models.TextChoices):
        IN_PRODUCTION = "in_production", "In production (record in preparation)"
        CMO_REVIEW = "cmo_review", "CMO QA review"
        SPONSOR_REVIEW = "sponsor_review", "Awaiting sponsor disposition"
        RELEASED = "released", "Released"
        CONDITIONALLY_RELEASED = "conditionally_released", "Conditionally released"
        REJECTED = "rejected", "Rejected"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="batches",
                                     help_text="The CMO that makes the batch and owns its record")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    lot_number = models.CharField(max_length=50)
    manufactured_on = models.DateField(help_text="Manufacturing start")
    completed_on = models.DateField(null=True, blank=True, help_text="Manufacturing end")
    expiry_date = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    unit = models.CharField(max_length=20, help_text="e.g. tablets, vials, kg, L")
    planned_delivery_date = models.DateField(null=True, blank=True)
    actual_delivery_date = models.DateField(null=True, blank=True)
    release_model = models.CharField(max_length=20, choices=ReleaseModel.choices,
                                     help_text="From the agreement; fixed when the batch goes to CMO QA review")
    state = models.CharField(max_length=30, choices=State.choices, default=State.IN_PRODUCTION)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="Sent to CMO QA review")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    sent_to_sponsor_at = models.DateTimeField(null=True, blank=True)
    disposed_at = models.DateTimeField(null=True, blank=True, help_text="Final release or rejection")
    review_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    return_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [models.UniqueConstraint(fields=["product", "lot_number"], name="batch_lot_once",
                                               violation_error_code="duplicate_lot",
                                               violation_error_message="This lot number is already registered "
                                                                       "for the product.")]
        indexes = [
            models.Index(fields=["sponsor", "state", "sent_to_sponsor_at"], name="batch_sponsor_queue"),
            # The CMO's pipeline by status and its QA queue (oldest submitted first) share one index.
            models.Index(fields=["organization", "state", "submitted_at"], name="batch_cmo_queue"),
            models.Index(fields=["partnership", "state"], name="batch_partnership_state"),
        ]

    constraint_fields = {"duplicate_lot": "lot_number"}

    def __str__(self) -> str:
        return f"{self.product.code} lot {self.lot_number}"

    @property
    def is_disposed(self) -> bool:
        return self.state in (self.State.RELEASED, self.State.CONDITIONALLY_RELEASED, self.State.REJECTED)

    @property
    def waiting_since(self) -> dt.datetime | None:
        """Since when the batch has waited for the party that holds it (the queue's age and order): the sponsor since
        the CMO sent it, the CMO's QA since submission; None once decided or still in production."""
        if self.state == self.State.SPONSOR_REVIEW:
            return self.sent_to_sponsor_at
        return self.submitted_at if self.state == self.State.CMO_REVIEW else None

    @property
    def record_editable(self) -> bool:
        """The record (documents, QC results, changes) can change until the CMO's quality unit has decided."""
        return self.state in (self.State.IN_PRODUCTION, self.State.CMO_REVIEW)


class _BatchPart(models.Model):
    """A part of the CMO's batch record: the CMO owns it, the batch's sponsor reads it."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")

    owner_field = "organization"

    class Meta:
        abstract = True


class Document(_BatchPart):
    """A file of the batch record; the bytes and their SHA-256 are the stored file's (tenants.files)."""

    class Kind(models.TextChoices):
        EXECUTED_BATCH_RECORD = "ebr", "Executed batch record"
        CERTIFICATE_OF_ANALYSIS = "coa", "Certificate of analysis"
        OTHER = "other", "Other supporting document"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.OneToOneField(StoredFile, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200, blank=True)
    superseded = models.BooleanField(default=False, help_text="A newer document of the same kind replaced it")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "-uploaded_at", "-id"]
        indexes = [models.Index(fields=["batch", "kind"], name="batch_document_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file.original_name}"


class QcResult(_BatchPart):
    """One line of the QC results summary (the certificate of analysis in data)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="qc_results")
    position = models.PositiveSmallIntegerField(default=0)
    test = models.CharField(max_length=200)
    specification = models.CharField(max_length=200)
    result = models.CharField(max_length=200)
    passed = models.BooleanField(default=True)
    oos = models.BooleanField("OOS", default=False, help_text="An out-of-specification result was investigated")

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["batch", "position"], name="qc_result_batch")]

    def __str__(self) -> str:
        return f"{self.test}: {self.result} ({'pass' if self.passed else 'fail'}{', OOS' if self.oos else ''})"


class ChangeInEffect(_BatchPart):
    """A change control in effect for this batch (referenced by its number until change control is in the app)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="changes")
    reference = models.CharField(max_length=50)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["reference", "id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class Disposition(models.Model):
    """One signed step of the release chain, owned by the party that performs it.

    The CMO's quality unit releases, submits (sponsor-only model) or rejects; the sponsor releases, certifies
    (QP) or rejects. A disposition exists only with its signature: it is created and signed in one transaction.
    """

    class Step(models.TextChoices):
        CMO_RELEASE = "cmo_release", "CMO QA release"
        CMO_SUBMIT = "cmo_submit", "CMO QA review for sponsor release"
        CMO_REJECT = "cmo_reject", "CMO QA rejection"
        SPONSOR_RELEASE = "sponsor_release", "Sponsor release"
        QP_CERTIFY = "qp_certify", "QP certification"
        SPONSOR_REJECT = "sponsor_reject", "Sponsor rejection"

    class Decision(models.TextChoices):
        RELEASED = "released", "Released"
        CONDITIONAL = "conditional", "Conditionally released"
        CERTIFIED = "certified", "Certified (QP)"
        SUBMITTED = "submitted", "Reviewed and sent for sponsor release"
        REJECTED = "rejected", "Rejected"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="dispositions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The party that performs the step")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    #: The other party (the audit trail shows the step to both).
    counterpart = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=20, choices=Step.choices)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    justification = models.TextField(blank=True, help_text="Why a conditional release is acceptable")
    reason = models.TextField(blank=True, help_text="Why the batch is rejected")
    open_deviations = models.JSONField(default=list, blank=True,
                                       help_text="Numbers of the linked deviations open when it was signed")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "step"], condition=~Q(step="cmo_reject"),
                                               name="disposition_step_once")]
        indexes = [models.Index(fields=["batch", "decided_at"], name="disposition_batch")]

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.get_decision_display()}"

    @property
    def by_sponsor(self) -> bool:
        return self.organization_id == self.sponsor_id


class Query(models.Model):
    """A sponsor's question about a batch to the CMO: a thread of messages, closed by the sponsor when answered.

    Who has the turn is read from the last message, so the CMO never writes the sponsor's row."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="queries")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The sponsor that raised it")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name_plural = "queries"
        indexes = [models.Index(fields=["batch", "state"], name="query_batch_state"),
                   models.Index(fields=["cmo", "state"], name="query_cmo_state")]

    def __str__(self) -> str:
        return self.subject


class QueryMessage(models.Model):
    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The author's organization")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    counterpart = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                    help_text="The other party (the audit trail shows the message to both)")
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["query", "created_at"], name="query_message_thread")]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:60]}"
