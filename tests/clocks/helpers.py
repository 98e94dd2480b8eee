"""Deadlines for the clock tests: a rule that falls due at a chosen moment, on a record of the demo cast."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clocks import services
from clocks.calendars import Unit
from clocks.models import Deadline
from clocks.rules import Rule, reminders
from tenants import rls
from tests.factories import Cast

#: One hour, reminded at the start; the due point and one escalation an hour later.
HOUR_RULE = Rule(code="test_hour", title="Sponsor notification", amount=1, unit=Unit.HOURS, calendar=None,
                 start_event="event recorded", stages=reminders(1, unit=Unit.HOURS, escalate=(1,)),
                 closed_by_hand=True)


def make_deadline(cast: Cast, starts_at: dt.datetime, *, owner: str = "acme", partner: str | None = "helix",
                  rule: Rule = HOUR_RULE, label: str = "Helix ↔ Acme", now: dt.datetime | None = None) -> Deadline:
    """A deadline owned by ``owner`` on its partnership with ``partner`` (QA roles of both told), created as the
    owner would create it (its row-level security context, not the test's system context)."""
    sponsor, cmo = (partner, owner) if cast.orgs[owner].kind == "cmo" else (owner, partner)
    record = cast.partnership(sponsor or "helix", cmo or "acme")
    audience = [services.Audience(cast.orgs[partner].pk)] if partner else []
    with transaction.atomic(), rls.scoped(rls.Context(organization_id=cast.orgs[owner].pk)):
        return services.deadline_create(
            organization_id=cast.orgs[owner].pk, record=record, subject_label=label, rule=rule,
            starts_at=starts_at, audience=audience, now=now or timezone.now())


def deadline_due_at(cast: Cast, due_at: dt.datetime, **kwargs: object) -> Deadline:
    """A one-hour deadline (``HOUR_RULE``) that falls due at ``due_at``."""
    return make_deadline(cast, due_at - dt.timedelta(hours=1), **kwargs)  # type: ignore[arg-type]


#: Closed by hand and extendable, on calendar days, so every deadline action applies to it.
REPORT_RULE = Rule(code="test_report", title="Comparability report to sponsor", amount=30, unit=Unit.CALENDAR_DAYS,
                   calendar=None, start_event="engineering batch completed", closed_by_hand=True,
                   stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS))


def route_deadline(cast: Cast) -> Deadline:
    """Borealis owes Northwind a report due in 20 days (the route matrix's target)."""
    return make_deadline(cast, timezone.now() - dt.timedelta(days=10), owner="borealis", partner="northwind",
                         rule=REPORT_RULE, label="NWB-9 engineering batch EB-03")


def notification_for(cast: Cast, username: str, deadline: Deadline, **fields: object):
    from clocks.models import Notification

    membership = cast.memberships[username]
    return Notification.objects.create(
        organization=membership.organization, recipient=membership, user=membership.user, deadline=deadline,
        record_table="clocks_deadline", record_id=deadline.pk, level="reminder",
        subject=f"{deadline.title} — 7 calendar days left: {deadline.subject_label}", body=deadline.rule_text,
        **fields)


def closure_for(cast: Cast, org: str):
    from clocks.models import ClosureDay

    return ClosureDay.objects.create(organization=cast.orgs[org], calendar="us_federal", date=dt.date(2026, 12, 31),
                                     reason=f"{org} closure: year-end shutdown", created_by=cast.users[f"{org}.qa"])
