"""Template helpers for deadlines: the colour stage, the due time in the deadline's zone, a record's deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.db.models import Model
from django.utils import timezone

from clocks import selectors
from clocks.models import STAGE_LABELS, Deadline

register = template.Library()


@register.simple_tag
def deadline_stage(deadline: Deadline, now: dt.datetime | None = None) -> str:
    return deadline.stage_at(now)


@register.simple_tag
def local_due(deadline: Deadline) -> str:
    """'14 Dec 2026 23:59 America/New_York' — the due day as the rule counted it."""
    return deadline.local_due


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.inclusion_tag("clocks/_record_deadlines.html", takes_context=True)
def record_deadlines(context: dict[str, Any], record: Model) -> dict[str, Any]:
    """Every deadline on ``record`` that the acting membership may see, for the record's own page."""
    membership = context["request"].membership
    return {"deadlines": list(selectors.deadlines_for_record(membership=membership, record=record)),
            "now": timezone.now(), "stage_labels": STAGE_LABELS, "request": context["request"]}
