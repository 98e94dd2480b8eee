"""Reads for deviations, always through the acting membership (DESIGN.md §3.2).

The CMO sees its own deviations whole. A sponsor sees a deviation only when one of its lines names that sponsor,
and then only its own lines, notices, comment threads and timeline entries; row-level security enforces the same
rule underneath, so a selector that forgot a filter would still return nothing foreign.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from deviations import taxonomy
from deviations.models import (
    AffectedProduct,
    Comment,
    ConsistencyFlag,
    Deviation,
    ExtensionRequest,
    Notice,
    RepeatLink,
    RootCauseCode,
    TimelineEntry,
)
from tenants.models import Membership


def _affects(membership: Membership) -> Exists:
    return Exists(AffectedProduct.objects.filter(deviation=OuterRef("pk"), sponsor_id=membership.organization_id))


def lines_visible(*, membership: Membership) -> QuerySet[AffectedProduct]:
    org = membership.organization_id
    return (AffectedProduct.objects.filter(Q(organization_id=org) | Q(sponsor_id=org))
            .select_related("product", "sponsor").order_by("id"))


def deviation_list(*, membership: Membership) -> QuerySet[Deviation]:
    return (Deviation.objects.filter(Q(organization_id=membership.organization_id) | _affects(membership))
            .select_related("site", "organization", "closure_deadline")
            .prefetch_related(Prefetch("lines", queryset=lines_visible(membership=membership),
                                       to_attr="visible_lines"))
            .order_by("-created_at", "-id"))


def counts_by_state(queryset: QuerySet[Deviation]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))


def lines_of(*, membership: Membership, deviation: Deviation) -> QuerySet[AffectedProduct]:
    return lines_visible(membership=membership).filter(deviation=deviation).select_related("partnership")


def notices_of(*, membership: Membership, deviation: Deviation) -> QuerySet[Notice]:
    org = membership.organization_id
    return (Notice.objects.filter(Q(organization_id=org) | Q(sponsor_id=org), deviation=deviation)
            .select_related("sponsor", "deadline", "notified_by", "acknowledgement").order_by("created_at", "id"))


def notice_list(*, membership: Membership) -> QuerySet[Notice]:
    org = membership.organization_id
    return (Notice.objects.filter(Q(organization_id=org) | Q(sponsor_id=org))
            .select_related("sponsor", "deviation", "deadline", "notified_by", "acknowledgement")
            .order_by("-created_at", "-id"))


def comments_of(*, membership: Membership, deviation: Deviation) -> QuerySet[Comment]:
    org = membership.organization_id
    visible = Q(cmo_id=org) if org == deviation.organization_id else Q(sponsor_id=org)
    return Comment.objects.filter(visible, deviation=deviation).select_related("organization", "sponsor")


def timeline_of(*, membership: Membership, deviation: Deviation) -> QuerySet[TimelineEntry]:
    org = membership.organization_id
    visible = Q() if org == deviation.organization_id else (Q(sponsor__isnull=True) | Q(sponsor_id=org))
    return TimelineEntry.objects.filter(visible, deviation=deviation).order_by("at", "id")


def repeats_of(*, membership: Membership, deviation: Deviation) -> QuerySet[RepeatLink]:
    """Earlier deviations this one repeats, among those the member may see."""
    visible = deviation_list(membership=membership).values("pk")
    return RepeatLink.objects.filter(deviation=deviation, earlier__in=visible).select_related("earlier")


def extension_list(*, membership: Membership) -> QuerySet[ExtensionRequest]:
    return (ExtensionRequest.objects.filter(organization_id=membership.organization_id)
            .select_related("deviation", "requested_by", "decided_by"))


def flag_list(*, membership: Membership) -> QuerySet[ConsistencyFlag]:
    return (ConsistencyFlag.objects.filter(organization_id=membership.organization_id)
            .select_related("first", "second", "reviewed_by").order_by("-raised_at", "-id"))


def own_causes(*, membership: Membership) -> QuerySet[RootCauseCode]:
    return RootCauseCode.objects.filter(organization_id=membership.organization_id).select_related("created_by")


def cause_choices(*, membership: Membership) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for the root-cause field: each standard category with its sub-codes and the org's own."""
    own = list(own_causes(membership=membership).filter(is_active=True))
    groups = []
    for category in taxonomy.CATEGORIES:
        codes = [(c.code, f"{c.code} {c.name}") for c in taxonomy.CODES if c.parent == category.code]
        codes += [(c.code, f"{c.code} {c.name} (own)") for c in own if c.parent == category.code]
        groups.append((category.name, codes))
    groups.append(("Other", [(c.code, f"{c.code} {c.name}") for c in taxonomy.CODES if not c.parent]))
    return groups

