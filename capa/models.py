"""CAPA: corrective and preventive actions, owned by the organization that raises them (usually the CMO).

A CMO's CAPA linked to one of its deviations is visible, read-only, to the sponsors that deviation affects
(row-level security asks the deviation's own visibility); a sponsor's own CAPA stays its own. Each action has an
owner and a due date (a clock); the effectiveness check has criteria, a due date (a clock) and a result.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models import Membership, Organization


class Capa(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        DEVIATION = "deviation", "Deviation"
        AUDIT_FINDING = "audit_finding", "Audit finding"
        OBSERVATION_483 = "observation_483", "FDA 483 observation"
        COMPLAINT = "complaint", "Complaint"
        OTHER = "other", "Other"

    class Effectiveness(models.TextChoices):
        NOT_PLANNED = "not_planned", "Not planned"
        SCHEDULED = "scheduled", "Scheduled"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="capas")
    number = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    description = models.TextField(help_text="The problem and the intended correction")
    source = models.CharField(max_length=20, choices=Source.choices)
    source_deviation = models.ForeignKey("deviations.Deviation", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="capas")
    source_reference = models.CharField(max_length=200, blank=True,
                                        help_text="Audit finding, 483 observation or complaint reference")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    effectiveness_criteria = models.TextField(blank=True)
    effectiveness_due = models.DateField(null=True, blank=True)
    effectiveness_deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                               related_name="+")
    effectiveness = models.CharField(max_length=12, choices=Effectiveness.choices,
                                     default=Effectiveness.NOT_PLANNED)
    effectiveness_note = models.TextField(blank=True)
    effectiveness_checked_at = models.DateTimeField(null=True, blank=True)
    effectiveness_checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                 on_delete=models.PROTECT, related_name="+")
    close_before_check = models.TextField(
        blank=True, help_text="The procedure that allows closing while the effectiveness check is still scheduled")
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="capa_number_once")]
        indexes = [models.Index(fields=["organization", "state"], name="capa_owner_state"),
                   models.Index(fields=["source_deviation"], name="capa_deviation")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CapaAction(models.Model):
    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", "Corrective"
        PREVENTIVE = "preventive", "Preventive"

    capa = models.ForeignKey(Capa, on_delete=models.CASCADE, related_name="actions")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField()
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    #: Printed name of the owner, for partners who cannot see the owner's membership.
    owner_name = models.CharField(max_length=200)
    due_date = models.DateField()
    deadline = models.ForeignKey("clocks.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    evidence = models.TextField(blank=True, help_text="What shows the action was done")
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["capa"], name="capa_action_capa")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None
