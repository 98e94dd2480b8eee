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


def deadline_due_at(cast: Cast, due_at: dt.datetime, *, owner: str = "acme", partner: str | None = "helix",
                    rule: Rule = HOUR_RULE, label: str = "Helix ↔ Acme", now: dt.datetime | None = None) -> Deadline:
    """A deadline owned by ``owner`` on its partnership with ``partner``, due at ``due_at`` (QA of both told)."""
    sponsor, cmo = (partner, owner) if cast.orgs[owner].kind == "cmo" else (owner, partner)
    record = cast.partnership(sponsor or "helix", cmo or "acme")
    audience = [services.Audience(cast.orgs[partner].pk)] if partner else []
    with transaction.atomic(), rls.scoped(rls.Context(organization_id=cast.orgs[owner].pk)):
        return services.deadline_create(
            organization_id=cast.orgs[owner].pk, record=record, subject_label=label, rule=rule,
            starts_at=due_at - dt.timedelta(hours=rule.amount), audience=audience, now=now or timezone.now())
