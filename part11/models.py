"""The audit trail: one append-only, hash-chained table written only by a database trigger.

Every tenant table carries the ``qms_audit`` trigger (``part11.audit.audited_table``), so service writes, bulk
``update()`` and raw SQL are all recorded, in the same transaction as the change. The application role may not
INSERT, UPDATE or DELETE here at all; the trigger runs as the owner. A second trigger refuses UPDATE and DELETE
for everyone. Each organization's events form a chain: ``hash = sha256(prev_hash | canonical content)``.
"""

from __future__ import annotations

from django.db import models

#: Human names for the record types the trail covers; later apps add theirs.
RECORD_TYPES = {
    "tenants_organization": "Organization", "tenants_site": "Site", "tenants_product": "Product",
    "tenants_partnership": "Partnership", "tenants_partnership_sites": "Partnership site scope",
    "tenants_partnership_products": "Partnership product scope", "tenants_membership": "Membership",
    "tenants_membershiptoken": "API token", "tenants_accessgrant": "Access grant",
    "tenants_partnershipuserobjectpermission": "Grant permission", "tenants_storedfile": "Stored file",
    "part11_signature": "Signature", "part11_recordexport": "Record export", "part11_auditreview": "Audit review",
    "clocks_closureday": "Closure day", "clocks_deadline": "Deadline", "clocks_deadlineaudience": "Deadline audience",
    "agreements_qualityagreement": "Quality agreement", "agreements_agreementsection": "Agreement section",
    "agreements_racirow": "RACI row", "agreements_notificationwindow": "Notification window",
    "agreements_datasharingterm": "Data-sharing term", "agreements_subcontractorconsent": "Subcontractor consent",
    "agreements_gmpactivity": "GMP activity",
    "deviations_deviation": "Deviation", "deviations_affectedproduct": "Deviation product line",
    "deviations_notice": "Deviation notice", "deviations_acknowledgement": "Notice acknowledgement",
    "deviations_comment": "Deviation comment", "deviations_timelineentry": "Deviation timeline entry",
    "deviations_extensionrequest": "Extension request", "deviations_repeatlink": "Repeat link",
    "deviations_consistencyflag": "Consistency flag", "deviations_rootcausecode": "Root-cause code",
    "capa_capa": "CAPA", "capa_capaaction": "CAPA action",
    "batches_batch": "Batch", "batches_document": "Batch document", "batches_qcresult": "QC result",
    "batches_changeineffect": "Change in effect", "batches_disposition": "Batch disposition",
    "batches_query": "Batch query", "batches_querymessage": "Batch query message",
    "changes_changerequest": "Change request", "changes_affectedproduct": "Change product line",
    "changes_sponsorroute": "Change sponsor route", "changes_filingassessment": "Filing assessment",
    "changes_filingdecision": "Filing decision", "changes_approval": "Change approval",
    "changes_effectivenessreview": "Change effectiveness review", "changes_changedocument": "Change document",
    "inspections_inspection": "Inspection", "inspections_scope": "Inspection scope line",
    "inspections_document": "Inspection document", "inspections_logentry": "Inspection log entry",
    "inspections_form483": "Form 483", "inspections_observation": "483 observation",
    "inspections_affectedproduct": "Observation product line", "inspections_impactassessment": "Program impact",
    "inspections_capalink": "Observation CAPA link", "inspections_commitmentclosure": "Commitment closure",
    "inspections_updatecommitment": "483 update commitment", "inspections_notice": "Inspection notice",
    "inspections_acknowledgement": "Inspection notice acknowledgement",
    "inspections_responsecomment": "483 response comment",
}

#: The page (URL name taking the record's pk) that shows each record type; notices and deadlines link there.
RECORD_PAGES = {"tenants_partnership": "partnership-detail", "clocks_deadline": "deadline-detail",
                "agreements_qualityagreement": "agreement-detail", "deviations_deviation": "deviation-detail",
                "capa_capa": "capa-detail", "batches_batch": "batch-detail",
                "changes_changerequest": "change-detail", "inspections_inspection": "inspection-detail"}


def record_page_url(record_table: str, record_id: int | None) -> str | None:
    from django.urls import reverse

    name = RECORD_PAGES.get(record_table)
    return reverse(name, args=[record_id]) if name and record_id is not None else None


RECORD_TYPE_CHOICES = sorted(RECORD_TYPES.items())


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"

    organization_id = models.BigIntegerField(null=True, db_index=True,
                                             help_text="Owner organization of the record; the chain it belongs to")
    partner_organization_id = models.BigIntegerField(null=True, db_index=True,
                                                     help_text="Second party that may read it (partnerships)")
    seq = models.BigIntegerField(help_text="Position in the organization's chain, from 1")
    record_table = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    changes = models.JSONField(help_text="{field: [old, new]} for the fields that changed")
    actor_user_id = models.BigIntegerField(null=True)
    actor_membership_id = models.BigIntegerField(null=True)
    request_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField(help_text="Server clock, UTC")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        managed = True
        ordering = ["organization_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["organization_id", "seq"], name="audit_chain_position")]
        indexes = [models.Index(fields=["record_table", "record_id"], name="audit_record"),
                   models.Index(fields=["occurred_at"], name="audit_time")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.record_table}:{self.record_id}"

    @property
    def action_label(self) -> str:
        """Sign, void and export read as what they are, not as a row created or updated elsewhere."""
        if self.record_table == "part11_signature":
            if self.action == "create":
                return f"Signed ({(self.changes.get('meaning') or [None, ''])[1]})"
            if "voided_at" in self.changes:
                return "Signature voided"
        if self.record_table == "part11_recordexport" and self.action == "create":
            return "Exported to PDF"
        if self.record_table == "part11_auditreview" and self.action == "create":
            return "Audit trail reviewed"
        return self.get_action_display()

    @property
    def record_label(self) -> str:
        return f"{RECORD_TYPES.get(self.record_table, self.record_table)} {self.record_id}"


class Signature(models.Model):
    """A Part 11 electronic signature (11.50, 11.70, 11.200): who, when (UTC), what it means, and the SHA-256 of
    the canonical content of the exact record version signed. A later change to that record voids it (database
    trigger, so the voiding is in the audit trail); a void signature stays, visibly void."""

    class Meaning(models.TextChoices):
        AUTHORED = "authored", "Authored"
        REVIEWED = "reviewed", "Reviewed"
        APPROVED = "approved", "Approved"
        RELEASED = "released", "Released"
        CERTIFIED = "certified", "Certified"
        REJECTED = "rejected", "Rejected"
        CLOSED = "closed", "Closed"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    organization = models.ForeignKey("tenants.Organization", on_delete=models.PROTECT, related_name="signatures")
    record_table = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    step = models.CharField(max_length=50)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    signer = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    signer_membership = models.ForeignKey("tenants.Membership", on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    content = models.JSONField(help_text="The canonical content that was signed")
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["record_table", "record_id"], name="signature_record")]

    def __str__(self) -> str:
        return f"{self.printed_name} — {self.get_meaning_display()}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class RecordExport(models.Model):
    """One rendering of a record to PDF (or a data file): who, when, what, and the SHA-256 of what left the
    system. Inserting the row is what puts the export into the audit trail (the table carries the trigger)."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.PROTECT, related_name="+")
    record_table = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, default="pdf")
    sha256 = models.CharField(max_length=64)
    exported_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField()

    owner_field = "organization"

    class Meta:
        ordering = ["-exported_at"]
        indexes = [models.Index(fields=["record_table", "record_id"], name="export_record")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.record_table}:{self.record_id}"


class AuditReview(models.Model):
    """A person's statement that they reviewed a record's audit trail up to a given event (FDA data-integrity
    guidance: audit trails of critical data are reviewed before final approval)."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.PROTECT, related_name="+")
    record_table = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    reviewer = models.ForeignKey("tenants.User", on_delete=models.PROTECT, related_name="+")
    reviewer_membership = models.ForeignKey("tenants.Membership", on_delete=models.PROTECT, related_name="+")
    reviewed_through_event = models.BigIntegerField(help_text="Id of the newest audit event of the record reviewed")
    reviewed_at = models.DateTimeField()

    owner_field = "organization"

    class Meta:
        ordering = ["-reviewed_at"]
        indexes = [models.Index(fields=["record_table", "record_id"], name="auditreview_record")]

    def __str__(self) -> str:
        return (f"audit trail of {self.record_table}:{self.record_id} "
                f"reviewed through event {self.reviewed_through_event}")
