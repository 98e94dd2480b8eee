"""Reads for CAPA. The owner sees its CAPAs; a sponsor sees a CMO's CAPA linked to a deviation that affects it
(read-only), never another sponsor's own CAPA. Row-level security applies the same rule underneath."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from capa.models import Capa, CapaAction
from deviations.selectors import deviation_list
from tenants.models import Membership


def capa_list(*, membership: Membership) -> QuerySet[Capa]:
    visible_deviations = deviation_list(membership=membership).values("pk")
    return (Capa.objects.filter(Q(organization_id=membership.organization_id)
                                | Q(source_deviation__in=visible_deviations,
                                    organization_id=F("source_deviation__organization_id")))
            .select_related("organization", "source_deviation", "effectiveness_deadline")
            .order_by("-created_at", "-id"))


def actions_of(*, capa: Capa) -> QuerySet[CapaAction]:
    """Actions of a CAPA the caller already holds (so already found visible)."""
    return CapaAction.objects.filter(capa=capa).select_related("deadline", "completed_by").order_by("due_date", "id")


def action_list(*, membership: Membership) -> QuerySet[CapaAction]:
    return CapaAction.objects.filter(capa__in=capa_list(membership=membership).values("pk")).select_related(
        "capa", "deadline")
