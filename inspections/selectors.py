"""Reads for inspections, always through the acting membership (DESIGN.md §3.2).

The CMO sees its inspections whole. A sponsor sees an inspection only through its own scope rows, and then:
its own scope rows, the documents the CMO shared, the 483 and its agency clocks, the observations that concern it
(site-wide ones of an inspection in its scope; product-specific ones only when one of its products is affected),
its own affected lines, impact assessments, notices, acknowledgements and comment threads, the CAPA links and
commitment status of the observations it sees — never the live inspection log, never another sponsor's rows.
Row-level security enforces the same rule underneath (migration 0002), so a selector that forgot a filter would
still return nothing foreign. Every list prefetches what its page or serializer shows (constant query counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from inspections.models import (
    Acknowledgement,
    AffectedProduct,
    CapaLink,
    Document,
    Form483,
    ImpactAssessment,
    Inspection,
    LogEntry,
    Notice,
    Observation,
    ResponseComment,
    Scope,
    UpdateCommitment,
    Visibility,
)
from tenants.models import Membership


def _mine_or_sponsor(membership: Membership) -> Q:
    org = membership.organization_id
    return Q(organization_id=org) | Q(sponsor_id=org)


def _in_my_scope(membership: Membership, field: str = "pk") -> Q:
    return Q(**{f"{field}__in": Scope.objects.filter(sponsor_id=membership.organization_id)
                .values("inspection_id")})


def scope_visible(*, membership: Membership) -> QuerySet[Scope]:
    return (Scope.objects.filter(_mine_or_sponsor(membership)).select_related("partnership", "product", "sponsor")
            .order_by("id"))


def inspection_list(*, membership: Membership) -> QuerySet[Inspection]:
    """Inspections of the CMO, or (a sponsor) at its CMOs' sites with it in scope; with the 483, its clock, and
    the member's own scope lines as ``visible_scope``."""
    return (Inspection.objects.filter(Q(organization_id=membership.organization_id) | _in_my_scope(membership))
            .select_related("site", "organization", "form483", "form483__response_deadline",
                            "warning_letter_deadline")
            .prefetch_related(Prefetch("scope", queryset=scope_visible(membership=membership),
                                       to_attr="visible_scope"))
            .order_by("-created_at", "-id"))


def scope_of(*, membership: Membership, inspection: Inspection) -> QuerySet[Scope]:
    return scope_visible(membership=membership).filter(inspection=inspection)


def documents_of(*, membership: Membership, inspection: Inspection) -> QuerySet[Document]:
    """All documents for the CMO; the shared ones for a sponsor in scope."""
    documents = Document.objects.filter(inspection=inspection).select_related("file", "uploaded_by")
    if inspection.organization_id != membership.organization_id:
        documents = documents.filter(shared=True)
    return documents.order_by("uploaded_at", "id")


def log_of(*, membership: Membership, inspection: Inspection) -> QuerySet[LogEntry]:
    """The back room: the CMO's own log; nothing for anyone else."""
    return (LogEntry.objects.filter(inspection=inspection, organization_id=membership.organization_id)
            .select_related("author").order_by("at", "id"))


def form483_list(*, membership: Membership) -> QuerySet[Form483]:
    """483s of the inspections the member sees, with their inspection, site and response clock."""
    visible = inspection_list(membership=membership).order_by().values("pk")
    return (Form483.objects.filter(inspection__in=visible)
            .select_related("inspection", "inspection__site", "inspection__organization", "response_deadline",
                            "submitted_by")
            .order_by("-issued_on", "-id"))


def _observation_visible(membership: Membership) -> Q:
    org = membership.organization_id
    return (Q(organization_id=org)
            | (Q(visibility=Visibility.SITE_WIDE) & _in_my_scope(membership, "inspection_id"))
            | Q(Exists(AffectedProduct.objects.filter(observation=OuterRef("pk"), sponsor_id=org))))


def observation_list(*, membership: Membership) -> QuerySet[Observation]:
    """The observations the member may see, each with its own affected lines (``visible_affected``), impact rows
    (``visible_impacts``), CAPA links, commitment closure and comment threads (``visible_comments``)."""
    org = membership.organization_id
    return (Observation.objects.filter(_observation_visible(membership))
            .select_related("form483", "inspection", "inspection__site", "closure")
            .prefetch_related(
                Prefetch("affected", queryset=AffectedProduct.objects.filter(_mine_or_sponsor(membership))
                         .select_related("product", "sponsor").order_by("id"), to_attr="visible_affected"),
                Prefetch("impacts", queryset=ImpactAssessment.objects.filter(_mine_or_sponsor(membership))
                         .select_related("sponsor").order_by("id"), to_attr="visible_impacts"),
                Prefetch("capa_links", queryset=CapaLink.objects.order_by("linked_at", "id")),
                Prefetch("comments", queryset=ResponseComment.objects.filter(
                    Q(cmo_id=org) | Q(sponsor_id=org)).order_by("created_at", "id"), to_attr="visible_comments"))
            .order_by("inspection_id", "number", "id"))


def observations_of(*, membership: Membership, form483: Form483) -> QuerySet[Observation]:
    return observation_list(membership=membership).filter(form483=form483)


def affected_of(*, membership: Membership, observation: Observation) -> QuerySet[AffectedProduct]:
    return (AffectedProduct.objects.filter(_mine_or_sponsor(membership), observation=observation)
            .select_related("product", "sponsor", "partnership").order_by("id"))


def impact_list(*, membership: Membership) -> QuerySet[ImpactAssessment]:
    return (ImpactAssessment.objects.filter(_mine_or_sponsor(membership))
            .select_related("observation", "observation__inspection", "sponsor", "partnership")
            .order_by("observation__inspection_id", "observation__number", "id"))


def impacts_of(*, membership: Membership, observation: Observation) -> QuerySet[ImpactAssessment]:
    return impact_list(membership=membership).filter(observation=observation)


def capa_links_of(*, membership: Membership, observation: Observation) -> QuerySet[CapaLink]:
    """CAPA links of an observation the caller already holds (so already found visible)."""
    return CapaLink.objects.filter(observation=observation).order_by("linked_at", "id")


def comment_list(*, membership: Membership) -> QuerySet[ResponseComment]:
    org = membership.organization_id
    return (ResponseComment.objects.filter(Q(cmo_id=org) | Q(sponsor_id=org))
            .select_related("organization", "sponsor", "observation").order_by("created_at", "id"))


def comments_of(*, membership: Membership, observation: Observation) -> QuerySet[ResponseComment]:
    return comment_list(membership=membership).filter(observation=observation)


def notice_list(*, membership: Membership) -> QuerySet[Notice]:
    return (Notice.objects.filter(_mine_or_sponsor(membership))
            .select_related("inspection", "inspection__site", "sponsor", "deadline", "notified_by",
                            "acknowledgement")
            .order_by("-created_at", "-id"))


def notices_of(*, membership: Membership, inspection: Inspection) -> QuerySet[Notice]:
    return notice_list(membership=membership).filter(inspection=inspection).order_by("created_at", "id")


def acknowledgement_list(*, membership: Membership) -> QuerySet[Acknowledgement]:
    org = membership.organization_id
    return (Acknowledgement.objects.filter(Q(organization_id=org) | Q(cmo_id=org))
            .select_related("notice", "notice__inspection").order_by("acknowledged_at", "id"))


def updates_of(*, membership: Membership, form483: Form483) -> QuerySet[UpdateCommitment]:
    """Periodic update commitments of a 483 the caller already holds, with their clocks."""
    return (UpdateCommitment.objects.filter(form483=form483).select_related("deadline", "submitted_by")
            .order_by("sequence"))


@dataclass(frozen=True)
class CommitmentStatus:
    """Response commitments of the observations a member sees: how many, how many closed, how many overdue."""

    total: int
    closed: int
    overdue: int

    @property
    def open(self) -> int:
        return self.total - self.closed


@dataclass(frozen=True)
class SponsorDashboard:
    """A sponsor's view: inspections at its CMOs' sites, its open 483s with both clocks (the agency's and its own
    notification clock), the impact on its products, and the status of the response commitments."""

    inspections: QuerySet[Inspection]
    open_483s: QuerySet[Form483]
    impacts: QuerySet[ImpactAssessment]
    commitments: QuerySet[Observation]

    def commitment_status(self, today: dt.date | None = None) -> CommitmentStatus:
        day = today or dt.date.today()
        rows = list(self.commitments)
        closed = sum(1 for o in rows if getattr(o, "closure", None) is not None)
        overdue = sum(1 for o in rows if getattr(o, "closure", None) is None and o.response_target_on is not None
                      and o.response_target_on < day)
        return CommitmentStatus(total=len(rows), closed=closed, overdue=overdue)


def sponsor_dashboard(*, membership: Membership) -> SponsorDashboard:
    """Everything on the sponsor's inspection dashboard, each a queryset with what it shows prefetched."""
    org = membership.organization_id
    open_483s = (form483_list(membership=membership).exclude(state=Form483.State.CLOSED)
                 .prefetch_related(Prefetch("inspection__notices", queryset=Notice.objects.filter(sponsor_id=org)
                                            .select_related("deadline", "acknowledgement").order_by("id"),
                                            to_attr="my_notices")))
    commitments = (observation_list(membership=membership).exclude(response_commitment="")
                   .filter(form483__state__in=[Form483.State.SUBMITTED, Form483.State.CLOSED]))
    return SponsorDashboard(
        inspections=inspection_list(membership=membership),
        open_483s=open_483s,
        impacts=impact_list(membership=membership).filter(sponsor_id=org),
        commitments=commitments,
    )
