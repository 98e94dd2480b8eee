"""Reads for clocks, each taking the acting membership (DESIGN.md §3.2 layer 1; RLS repeats it below).

A deadline is visible to its owner and to the organizations in its audience; "my deadlines" are the open ones
whose audience names my role in my organization, or that are assigned to me. Notifications are personal.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from clocks.calendars import SPECS, CalendarCode
from clocks.models import ClosureDay, Deadline, DeadlineAudience, DeadlineStage, Notification
from tenants.models import Membership


def _in_audience(membership: Membership, *, with_role: bool) -> Exists:
    audience = DeadlineAudience.objects.filter(deadline=OuterRef("pk"), organization_id=membership.organization_id)
    if with_role:
        audience = audience.filter(roles__contains=[membership.role])
    return Exists(audience)


def deadline_list(*, membership: Membership) -> QuerySet[Deadline]:
    return (
        Deadline.objects.filter(Q(organization_id=membership.organization_id)
                                | _in_audience(membership, with_role=False))
        .select_related("organization", "completed_by", "assignee__user")
        .order_by("due_at", "id")
    )


def my_deadlines(*, membership: Membership) -> QuerySet[Deadline]:
    """Open clocks (and missed ones not yet done) that are mine to act on, soonest first."""
    return deadline_list(membership=membership).filter(
        Q(assignee=membership) | _in_audience(membership, with_role=True),
        state__in=[Deadline.State.OPEN, Deadline.State.MISSED], completed_at__isnull=True,
    )


def deadlines_for_record(*, membership: Membership, record: Model) -> QuerySet[Deadline]:
    return deadline_list(membership=membership).filter(record_table=record._meta.db_table, record_id=record.pk)


def deadline_stages(*, deadline: Deadline) -> QuerySet[DeadlineStage]:
    """Stages of a deadline the caller already holds (so already found visible)."""
    return DeadlineStage.objects.filter(deadline=deadline).order_by("fire_at", "id")


def deadline_audience(*, deadline: Deadline) -> QuerySet[DeadlineAudience]:
    return DeadlineAudience.objects.filter(deadline=deadline).select_related("organization").order_by("id")


def notification_list(*, membership: Membership) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=membership).select_related("deadline").order_by("-created_at", "-id")


def unread_count(*, membership: Membership) -> int:
    return Notification.objects.filter(recipient=membership, read_at__isnull=True).count()


def delivery_failures(*, membership: Membership) -> QuerySet[Notification]:
    """E-mails of the organization's members that failed for good (org admins fix addresses and retry)."""
    return (Notification.objects.filter(organization_id=membership.organization_id,
                                        email_state=Notification.Email.FAILED)
            .select_related("user", "recipient__user", "deadline").order_by("-created_at", "-id"))


def closure_list(*, membership: Membership) -> QuerySet[ClosureDay]:
    return ClosureDay.objects.filter(organization_id=membership.organization_id).select_related("created_by")


def calendar_year(*, membership: Membership, code: str, year: int) -> dict[str, Any]:
    """A calendar's non-working weekdays and weekend holidays of ``year``, with the organization's closures."""
    from clocks.services import calendar_for

    calendar = calendar_for(membership.organization_id, code)
    return {"code": code, "name": CalendarCode(code).label, "time_zone": SPECS[code].time_zone, "year": year,
            "days": [{"date": day, "name": name, "closure": closure}
                     for day, name, closure in calendar.holidays_in_year(year)]}
