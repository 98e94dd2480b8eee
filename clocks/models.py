"""Deadlines as rows, their stages, the notification outbox and its delivery attempts (DESIGN.md §3.4).

No deadline lives in a Celery ETA task: a deadline is a row with its due time, and each reminder, the due point
and each escalation is a :class:`DeadlineStage` row with the time it fires. The sweep claims due stages and writes
:class:`Notification` rows (the outbox) in the same transaction; delivery reads the outbox. A unique key per
(stage, recipient) makes a second sweep, a second beat or a crashed worker harmless.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clocks.calendars import CalendarCode, Unit
from clocks.rules import Rule, StageKind, StageSpec
from tenants.models import Membership, Organization
from tenants.permissions import Role


class ClosureDay(models.Model):
    """A day an organization's clocks on one calendar do not count (e.g. a federal closure by executive order)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="closure_days")
    calendar = models.CharField(max_length=20, choices=CalendarCode.choices)
    date = models.DateField()
    reason = models.CharField(max_length=200, help_text="Why the day does not count, e.g. 'Executive Order 14xxx'")
    is_active = models.BooleanField(default=True)
    withdrawn_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    owner_field = "organization"

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "calendar", "date"], condition=Q(is_active=True),
                                    name="closure_day_once", violation_error_code="duplicate_closure",
                                    violation_error_message="This day is already a closure day on that calendar."),
        ]

    constraint_fields = {"duplicate_closure": "date"}

    def __str__(self) -> str:
        return f"{self.date} ({self.get_calendar_display()}): {self.reason}"


class Deadline(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        MET = "met", "Met"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="deadlines",
                                     help_text="The organization that must meet the deadline")
    record_table = models.CharField(max_length=63, help_text="Table of the record the deadline belongs to")
    record_id = models.BigIntegerField()
    subject_label = models.CharField(max_length=200, help_text="How the record is named in notices")
    rule_code = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=20, choices=Unit.choices)
    calendar = models.CharField(max_length=20, choices=CalendarCode.choices, blank=True)
    time_zone = models.CharField(max_length=50)
    start_event = models.CharField(max_length=100)
    #: The rule's reminder/due/escalation points, [[kind, amount, unit], ...], so a recompute rebuilds the rule.
    stage_specs = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    due_at = models.DateTimeField()
    original_due_at = models.DateTimeField(help_text="Due time before any extension")
    due_soon_at = models.DateTimeField(help_text="When the deadline turns 'due soon' (its first reminder)")
    rule_text = models.TextField(help_text="The rule spelled out, with the days it skipped")
    extension_note = models.TextField(blank=True)
    extendable = models.BooleanField(default=True)
    closed_by_hand = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    completed_late = models.BooleanField(default=False)
    cancel_reason = models.TextField(blank=True)
    assignee = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["organization", "state", "due_at"], name="deadline_owner_state_due"),
            models.Index(fields=["record_table", "record_id"], name="deadline_record"),
        ]

    def __str__(self) -> str:
        return f"{self.title}: {self.subject_label}"

    def rule(self) -> Rule:
        """The rule this deadline was computed from (to recompute it after a restart, extension or closure)."""
        return Rule(code=self.rule_code, title=self.title, amount=self.amount, unit=self.unit,
                    calendar=self.calendar or None, start_event=self.start_event, time_zone=self.time_zone,
                    stages=tuple(StageSpec(kind, amount, unit) for kind, amount, unit in self.stage_specs),
                    extendable=self.extendable, closed_by_hand=self.closed_by_hand)

    @property
    def is_closed(self) -> bool:
        return self.state in (self.State.MET, self.State.CANCELLED) or self.completed_at is not None

    @property
    def local_due(self) -> str:
        """'14 Dec 2026 23:59 America/New_York': the due time in the zone the rule counted in (pages, notices)."""
        local = self.due_at.astimezone(ZoneInfo(self.time_zone))
        return f"{local:%-d %b %Y %H:%M} {self.time_zone}"

    def stage_at(self, now: dt.datetime | None = None) -> str:
        """The colour-coding stage, from the clock itself (correct even before the sweep has run)."""
        now = now or timezone.now()
        if self.state == self.State.CANCELLED:
            return "cancelled"
        if self.completed_at is not None:
            return "met_late" if self.completed_late else "met"
        if now >= self.due_at or self.state == self.State.MISSED:
            return "overdue"
        if now >= self.due_soon_at:
            return "due_soon"
        return "on_track"


STAGE_LABELS = {"on_track": "On track", "due_soon": "Due soon", "overdue": "Overdue", "met": "Met",
                "met_late": "Met late", "cancelled": "Cancelled"}


class DeadlineAudience(models.Model):
    """An organization, and the roles in it, told about a deadline's stages (the owner and partners)."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="audience")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    #: The deadline's owner, copied so that row-level security need not read the deadline (no policy recursion).
    owner_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices))

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["deadline", "organization"], name="audience_once")]

    def __str__(self) -> str:
        return f"organization {self.organization_id}: {', '.join(self.roles)}"

    @property
    def role_labels(self) -> str:
        return ", ".join(str(Role(role).label) for role in self.roles)


class DeadlineStage(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        FIRED = "fired", "Fired"
        SKIPPED = "skipped", "Skipped (already past when scheduled)"
        CANCELLED = "cancelled", "Cancelled (deadline closed or rescheduled)"

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="stages")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=StageKind.choices)
    label = models.CharField(max_length=100)
    fire_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["fire_at", "id"]
        indexes = [
            # The sweep reads only this index: its cost follows the due stages, not the open deadlines.
            models.Index(fields=["fire_at"], condition=Q(state="pending"), name="stage_pending_fire_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label} at {self.fire_at:%Y-%m-%d %H:%M} UTC ({self.state})"


class Notification(models.Model):
    """One message to one member: shown in the notification centre at once, e-mailed through the outbox."""

    class Level(models.TextChoices):
        INFO = "info", "Information"
        REMINDER = StageKind.REMINDER.value, "Reminder"
        DUE = StageKind.DUE.value, "Due"
        ESCALATION = StageKind.ESCALATION.value, "Escalation"

    class Email(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed permanently"
        SKIPPED = "skipped", "Not sent (no e-mail address)"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                     help_text="The recipient's organization")
    # No separate FK indexes: notification_inbox leads with recipient, the unique (stage, recipient) with stage.
    recipient = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="notifications", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    deadline = models.ForeignKey(Deadline, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(DeadlineStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    record_table = models.CharField(max_length=63, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.INFO)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=Email.choices, default=Email.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "recipient"], condition=Q(stage__isnull=False),
                                    name="notification_once_per_stage_and_recipient"),
        ]
        indexes = [
            # The delivery claims in (next_attempt_at, id) order: the index matches it, so an e-mail costs the same
            # at 10 or 10,000 pending (docs/performance.md).
            models.Index(fields=["next_attempt_at", "id"], condition=Q(email_state="pending"), name="outbox_pending"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["organization"], condition=Q(email_state="failed"), name="notification_failed"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def message_id(self) -> str:
        """Stable per notification, so a re-sent copy (after a crash between send and commit) is recognisable."""
        return f"<notification-{self.pk}@qms.invalid>"


class DeliveryAttempt(models.Model):
    """Each try to e-mail a notification, with its outcome: the evidence that a notice went out (or why not)."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed permanently"

    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, related_name="attempts")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, default="email")
    attempted_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [models.Index(fields=["notification"], name="attempt_notification")]

    def __str__(self) -> str:
        return f"{self.channel} {self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M:%S} UTC"
