"""Writes for clocks: deadlines (create, restart, extend, complete, cancel), closure days, notifications.

Other apps call :func:`deadline_create`, :func:`deadline_restart`, :func:`deadline_complete` and
:func:`deadline_cancel` from their own services, inside the transaction that changes the record, so a record
and its clock can never disagree (DESIGN.md §5). Every change to a deadline is a row change the audit trigger
records; restarts, extensions and cancellations carry their reason into the trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from clocks.calendars import BusinessCalendar, Unit, local_date
from clocks.models import ClosureDay, Deadline, DeadlineAudience, DeadlineStage, Notification
from clocks.rules import Rule, Schedule, StageKind, schedule
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import versioned_save
from tenants.models import Membership
from tenants.permissions import Capability, Role, can

#: Who hears about a deadline in an organization unless the caller says otherwise.
QA_ROLES: tuple[str, ...] = (Role.QA_APPROVER, Role.QA_REVIEWER)


@dataclass(frozen=True)
class Audience:
    organization_id: int
    roles: tuple[str, ...] = QA_ROLES


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, deadline: Deadline) -> None:
    if deadline.organization_id != membership.organization_id:
        raise PermissionDenied("This deadline belongs to a partner organization and is read-only for you.")


def _reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: "Give the reason; it is recorded in the audit trail."})
    return text


# --- Calendars ------------------------------------------------------------------------------------------------


def calendar_for(organization_id: int, code: str) -> BusinessCalendar:
    """The named calendar plus the organization's active closure days on it."""
    closures = dict(ClosureDay.objects.filter(organization_id=organization_id, calendar=code, is_active=True)
                    .values_list("date", "reason"))
    return BusinessCalendar(code, closures)


def schedule_for(organization_id: int, rule: Rule, starts_at: dt.datetime, *,
                 due_date: dt.date | None = None) -> Schedule:
    calendar = calendar_for(organization_id, rule.calendar) if rule.calendar else None
    return schedule(rule, starts_at, calendar, due_date=due_date)


# --- Deadlines --------------------------------------------------------------------------------------------------


@transaction.atomic
def deadline_create(*, organization_id: int, record: Model, subject_label: str, rule: Rule, starts_at: dt.datetime,
                    audience: Sequence[Audience], assignee: Membership | None = None,
                    now: dt.datetime | None = None) -> Deadline:
    """Start a clock for ``record``, owned by ``organization_id``; call it in the record's own transaction.

    The owner is always in the audience (QA roles, unless given); partners are added by the caller (e.g. each
    affected sponsor). Row-level security refuses the insert unless the acting organization is the owner.
    """
    now = now or timezone.now()
    plan = schedule_for(organization_id, rule, starts_at)
    deadline = Deadline(
        organization_id=organization_id, record_table=record._meta.db_table, record_id=record.pk,
        subject_label=subject_label[:200], rule_code=rule.code, title=rule.title, amount=rule.amount,
        unit=rule.unit, calendar=rule.calendar or "", time_zone=rule.zone, start_event=rule.start_event,
        stage_specs=[[s.kind, s.amount, s.unit] for s in rule.stages], starts_at=starts_at, due_at=plan.due_at,
        original_due_at=plan.due_at, due_soon_at=plan.due_soon_at, rule_text=plan.rule_text,
        extendable=rule.extendable, closed_by_hand=rule.closed_by_hand, assignee=assignee, created_at=now,
    )
    if assignee is not None and assignee.organization_id != organization_id:
        raise ValidationError({"assignee": "The assignee must be a member of the organization that owns it."})
    full_clean_by_field(deadline, exclude=["organization", "assignee"])
    deadline.save()
    audiences = {organization_id: QA_ROLES}
    audiences.update({a.organization_id: tuple(a.roles) for a in audience})
    DeadlineAudience.objects.bulk_create([
        DeadlineAudience(deadline=deadline, organization_id=org, owner_organization_id=organization_id,
                         roles=list(roles)) for org, roles in audiences.items()
    ])
    _plan_stages(deadline, plan, now)
    return deadline


def _plan_stages(deadline: Deadline, plan: Schedule, now: dt.datetime) -> None:
    """Create the stages of ``plan``. Reminders already past are skipped, except the latest one while the deadline
    is still ahead (someone must hear it is due soon); the due point and escalations always fire."""
    past_reminders = [s for s in plan.stages if s.kind == StageKind.REMINDER and s.fire_at <= now]
    keep = past_reminders[-1] if past_reminders and plan.due_at > now else None
    DeadlineStage.objects.bulk_create([
        DeadlineStage(
            deadline=deadline, organization_id=deadline.organization_id, kind=stage.kind, label=stage.label,
            fire_at=stage.fire_at,
            state=(DeadlineStage.State.SKIPPED if stage in past_reminders and stage is not keep
                   else DeadlineStage.State.PENDING),
        )
        for stage in plan.stages
    ])


def _cancel_pending_stages(deadline: Deadline) -> None:
    DeadlineStage.objects.filter(deadline=deadline, state=DeadlineStage.State.PENDING).update(
        state=DeadlineStage.State.CANCELLED)


def _require_open(deadline: Deadline) -> None:
    if deadline.is_closed:
        state = "met" if deadline.completed_at else deadline.get_state_display().lower()
        raise ValidationError({"state": f"This deadline is already {state}; a closed clock cannot change."})


def _reschedule(deadline: Deadline, plan: Schedule, now: dt.datetime, fields: list[str]) -> None:
    deadline.due_at, deadline.due_soon_at = plan.due_at, plan.due_soon_at
    fields += ["due_at", "due_soon_at"]
    if deadline.state == Deadline.State.MISSED and plan.due_at > now:
        deadline.state = Deadline.State.OPEN
        fields.append("state")
    _cancel_pending_stages(deadline)
    _plan_stages(deadline, plan, now)


@transaction.atomic
def deadline_restart(*, deadline: Deadline, starts_at: dt.datetime, reason: str,
                     now: dt.datetime | None = None) -> Deadline:
    """Count again from a new start (an amended 483 restarts the response clock); the reason goes on record."""
    reason = _reason(reason)
    _require_open(deadline)
    now = now or timezone.now()
    plan = schedule_for(deadline.organization_id, deadline.rule(), starts_at)
    deadline.starts_at, deadline.rule_text, deadline.original_due_at = starts_at, plan.rule_text, plan.due_at
    deadline.extension_note = ""
    fields = ["starts_at", "rule_text", "original_due_at", "extension_note"]
    with reason_for_change(reason):
        _reschedule(deadline, plan, now, fields)
        versioned_save(deadline, fields, None, False)
    return deadline


@transaction.atomic
def deadline_extend(*, membership: Membership, deadline: Deadline, due_date: dt.date, reason: str,
                    expected_version: int | None = None, precondition: bool = False,
                    now: dt.datetime | None = None) -> Deadline:
    """An approved extension: a QA approver of the owner moves the due date later, with the reason audited."""
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_owner(membership, deadline)
    reason = _reason(reason)
    _require_open(deadline)
    if not deadline.extendable:
        raise ValidationError({"due_date": "This is a regulatory clock; its due date cannot be extended."})
    now = now or timezone.now()
    current = local_date(deadline.due_at, deadline.time_zone)
    if due_date <= current:
        raise ValidationError({"due_date": f"An extension must move the due date later than {current:%-d %b %Y}."})
    if deadline.unit == Unit.BUSINESS_DAYS and not calendar_for(deadline.organization_id,
                                                                deadline.calendar).is_business_day(due_date):
        raise ValidationError({"due_date": f"{due_date:%a %-d %b %Y} is not a business day on this calendar."})
    plan = schedule_for(deadline.organization_id, deadline.rule(), deadline.starts_at, due_date=due_date)
    deadline.extension_note = (f"Extended from {current:%-d %b %Y} to {due_date:%-d %b %Y} by "
                               f"{membership.user.printed_name}: {reason}")
    fields = ["extension_note"]
    with reason_for_change(f"deadline extended: {reason}"):
        _reschedule(deadline, plan, now, fields)
        versioned_save(deadline, fields, expected_version, precondition)
    return deadline


@transaction.atomic
def deadline_complete(*, deadline: Deadline, membership: Membership | None = None,
                      at: dt.datetime | None = None) -> Deadline:
    """The obligation was fulfilled at ``at``. Late completion keeps the deadline "missed" and says so.

    Record services call this in their own transaction (e.g. submitting the 483 response); by hand only for a
    rule that allows it, by a member who may author quality records.
    """
    if membership is not None:
        _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
        _require_owner(membership, deadline)
        if not deadline.closed_by_hand:
            raise ValidationError({"state": "This deadline is met by its record's workflow, not by hand."})
    _require_open(deadline)
    at = at or timezone.now()
    deadline.completed_at = at
    deadline.completed_late = at > deadline.due_at
    deadline.completed_by_id = membership.user_id if membership is not None else _acting_user_id()
    deadline.state = Deadline.State.MISSED if deadline.completed_late else Deadline.State.MET
    _cancel_pending_stages(deadline)
    versioned_save(deadline, ["completed_at", "completed_late", "completed_by_id", "state"], None, False)
    return deadline


@transaction.atomic
def deadline_cancel(*, deadline: Deadline, reason: str, membership: Membership | None = None) -> Deadline:
    """The obligation no longer applies (e.g. its record was cancelled); the reason is kept and audited."""
    if membership is not None:
        _require(membership, Capability.APPROVE_QUALITY_RECORDS)
        _require_owner(membership, deadline)
        if not deadline.closed_by_hand:
            raise ValidationError({"state": "This deadline is cancelled by its record's workflow, not by hand."})
    reason = _reason(reason)
    _require_open(deadline)
    deadline.state, deadline.cancel_reason = Deadline.State.CANCELLED, reason
    _cancel_pending_stages(deadline)
    with reason_for_change(f"deadline cancelled: {reason}"):
        versioned_save(deadline, ["state", "cancel_reason"], None, False)
    return deadline


def _acting_user_id() -> int | None:
    from tenants import rls

    return rls.current().user_id


# --- Closure days ----------------------------------------------------------------------------------------------


@transaction.atomic
def closure_add(*, membership: Membership, calendar: str, date: dt.date, reason: str,
                now: dt.datetime | None = None) -> ClosureDay:
    """Add a day the organization's clocks on ``calendar`` skip; open business-day clocks spanning it move."""
    _require(membership, Capability.MANAGE_MASTER_DATA)
    reason = _reason(reason)
    closure = ClosureDay(organization_id=membership.organization_id, calendar=calendar, date=date, reason=reason,
                         created_by_id=membership.user_id)
    full_clean_by_field(closure)
    with reason_for_change(f"closure day added: {reason}"):
        closure.save()
        _recompute_spanning(membership.organization_id, calendar, date, f"closure day {date} added: {reason}", now)
    return closure


@transaction.atomic
def closure_withdraw(*, membership: Membership, closure: ClosureDay, reason: str,
                     now: dt.datetime | None = None) -> ClosureDay:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    if closure.organization_id != membership.organization_id:
        raise PermissionDenied("This closure day belongs to another organization.")
    reason = _reason(reason)
    if not closure.is_active:
        raise ValidationError({"is_active": "This closure day is already withdrawn."})
    closure.is_active, closure.withdrawn_reason = False, reason
    with reason_for_change(f"closure day withdrawn: {reason}"):
        closure.save(update_fields=["is_active", "withdrawn_reason"])
        _recompute_spanning(closure.organization_id, closure.calendar, closure.date,
                            f"closure day {closure.date} withdrawn: {reason}", now)
    return closure


def _recompute_spanning(organization_id: int, calendar: str, day: dt.date, reason: str,
                        now: dt.datetime | None) -> int:
    """Restart, from their own start, the open unextended clocks on ``calendar`` whose count spans ``day``."""
    start_of_day = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    spanning = Deadline.objects.filter(
        organization_id=organization_id, calendar=calendar, unit=Unit.BUSINESS_DAYS, completed_at__isnull=True,
        state__in=[Deadline.State.OPEN, Deadline.State.MISSED], extension_note="",
        starts_at__lt=start_of_day + dt.timedelta(days=1), due_at__gte=start_of_day - dt.timedelta(days=1),
    )
    count = 0
    for deadline in spanning.select_for_update():
        deadline_restart(deadline=deadline, starts_at=deadline.starts_at, reason=reason, now=now)
        count += 1
    return count


# --- Notifications ----------------------------------------------------------------------------------------------


def notification_mark_read(*, membership: Membership, notification: Notification) -> Notification:
    if notification.recipient_id != membership.pk:
        raise PermissionDenied("This notification was sent to someone else.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, membership: Membership) -> int:
    return Notification.objects.filter(recipient=membership, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def delivery_retry(*, membership: Membership, notification: Notification) -> Notification:
    """An org admin sends a permanently failed e-mail again (after fixing the address, say)."""
    _require(membership, Capability.MANAGE_MEMBERS)
    if notification.organization_id != membership.organization_id:
        raise PermissionDenied("This notification belongs to another organization.")
    if notification.email_state != Notification.Email.FAILED:
        raise ValidationError({"email_state": "Only a failed e-mail can be retried; this one is "
                                              f"{notification.get_email_state_display().lower()}."})
    notification.email_state, notification.next_attempt_at = Notification.Email.PENDING, timezone.now()
    notification.email_attempts = 0
    notification.save(update_fields=["email_state", "next_attempt_at", "email_attempts"])
    from clocks import dispatch

    dispatch.deliver_after_commit()
    return notification


# --- Telling a partner now --------------------------------------------------------------------------------------


def notify_partner(*, partnership_id: int, record: Model, subject: str, body: str,
                   roles: Sequence[str] = QA_ROLES) -> int:
    """Write in-app notifications (and so e-mails, through the outbox) for the other party's members in ``roles``.

    The caller has checked that the acting member may act on ``record``; the database function checks that the
    acting organization is a party to the partnership (migration clocks 0004). Delivery is enqueued on commit.
    Returns how many members were told.
    """
    from clocks.dispatch import deliver_after_commit

    with connection.cursor() as cursor:
        cursor.execute("SELECT qms_notify_partner(%s, %s, %s, %s, %s, %s)",
                       [partnership_id, list(roles), record._meta.db_table, record.pk, subject, body])
        (written,) = cursor.fetchone()
    if written:
        deliver_after_commit()
    return int(written)
