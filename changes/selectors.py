"""Reads for change control, always through the acting membership (DESIGN.md §3.2).

The owner (the CMO, or a sponsor for its own change) sees its changes whole. A sponsor sees a change only when one
of its lines names that sponsor, and then only its own lines, routes, filing assessments, filing decisions and
approvals; row-level security enforces the same rule underneath, so a selector that forgot a filter would still
return nothing foreign.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from changes.models import (
    AffectedProduct,
    Approval,
    ChangeDocument,
    ChangeRequest,
    EffectivenessReview,
    FilingAssessment,
    FilingDecision,
    SponsorRoute,
)
from tenants.models import Membership

State = ChangeRequest.State


def _affects(membership: Membership) -> Exists:
    """A line names the member's organization as the sponsor, or (a sponsor's own change) as the product's CMO."""
    org = membership.organization_id
    return Exists(AffectedProduct.objects.filter(Q(sponsor_id=org) | Q(cmo_id=org), change=OuterRef("pk")))


def _mine_or_sponsor(membership: Membership) -> Q:
    org = membership.organization_id
    return Q(organization_id=org) | Q(sponsor_id=org)


def lines_visible(*, membership: Membership) -> QuerySet[AffectedProduct]:
    org = membership.organization_id
    return (AffectedProduct.objects.filter(_mine_or_sponsor(membership) | Q(cmo_id=org))
            .select_related("product", "sponsor").order_by("id"))


def change_list(*, membership: Membership) -> QuerySet[ChangeRequest]:
    return (ChangeRequest.objects.filter(Q(organization_id=membership.organization_id) | _affects(membership))
            .select_related("site", "organization", "effectiveness_deadline")
            .prefetch_related(Prefetch("lines", queryset=lines_visible(membership=membership),
                                       to_attr="visible_lines"))
            .order_by("-created_at", "-id"))


def lines_of(*, membership: Membership, change: ChangeRequest) -> QuerySet[AffectedProduct]:
    return lines_visible(membership=membership).filter(change=change).select_related("partnership")


def routes_of(*, membership: Membership, change: ChangeRequest) -> QuerySet[SponsorRoute]:
    """The routes of the round in force (``ChangeRequest.live_round``; earlier rounds: ``history_of``)."""
    return (SponsorRoute.objects.filter(_mine_or_sponsor(membership), change=change, round=change.live_round)
            .select_related("sponsor", "deadline", "notified_by").order_by("id"))


def history_of(*, membership: Membership, change: ChangeRequest) -> list[tuple[SponsorRoute, Approval | None]]:
    """Earlier approval rounds (withdrawn for revision), newest first: each route the member may see, with the
    sponsor's signed decision in that round if it gave one. Two queries whatever the number of rounds."""
    routes = list(SponsorRoute.objects.filter(_mine_or_sponsor(membership), change=change,
                                              round__lt=change.live_round)
                  .select_related("sponsor").order_by("-round", "id"))
    decided = {(a.partnership_id, a.round): a for a in approvals_of(membership=membership, change=change,
                                                                       current=False)
               .filter(round__lt=change.live_round)} if routes else {}
    return [(route, decided.get((route.partnership_id, route.round))) for route in routes]


def documents_of(*, membership: Membership, change: ChangeRequest) -> QuerySet[ChangeDocument]:
    """Documents linked to a change the member sees (row-level security asks the change, as for its files)."""
    return (ChangeDocument.objects.filter(change=change)
            .filter(Q(organization_id=membership.organization_id) | Q(change__in=change_list(membership=membership)
                                                                      .order_by().values("pk")))
            .select_related("file", "uploaded_by").order_by("uploaded_at", "id"))


def assessments_of(*, membership: Membership, change: ChangeRequest,
                   current: bool = True) -> QuerySet[FilingAssessment]:
    """Filing assessments the member may see (the current ones unless ``current`` is False), with decisions."""
    queryset = FilingAssessment.objects.filter(_mine_or_sponsor(membership), change=change)
    if current:
        queryset = queryset.filter(superseded=False)
    return queryset.select_related("product", "sponsor", "decision").order_by("line_id", "market", "id")


def review_list(*, membership: Membership) -> QuerySet[EffectivenessReview]:
    """Effectiveness reviews of the changes the member sees (a sponsor: of changes affecting its products)."""
    visible = change_list(membership=membership).order_by().values("pk")
    return EffectivenessReview.objects.filter(change__in=visible).select_related("change", "reviewed_by")


def decision_list(*, membership: Membership) -> QuerySet[FilingDecision]:
    org = membership.organization_id
    return (FilingDecision.objects.filter(Q(organization_id=org) | Q(cmo_id=org))
            .select_related("assessment__product", "change", "organization").order_by("decided_at", "id"))


def decisions_of(*, membership: Membership, change: ChangeRequest) -> QuerySet[FilingDecision]:
    return decision_list(membership=membership).filter(change=change)


def approval_list(*, membership: Membership) -> QuerySet[Approval]:
    org = membership.organization_id
    return (Approval.objects.filter(Q(organization_id=org) | Q(cmo_id=org))
            .select_related("change", "organization", "decided_by").order_by("decided_at", "id"))


def approvals_of(*, membership: Membership, change: ChangeRequest, current: bool = True) -> QuerySet[Approval]:
    """Signed sponsor decisions on ``change``: the current approval round's unless ``current`` is False."""
    queryset = approval_list(membership=membership).filter(change=change)
    return queryset.filter(round=change.live_round) if current else queryset


@dataclass(frozen=True)
class Awaiting:
    """A sponsor's "changes awaiting my decision": approvals to sign, filing categories to confirm, agency
    approvals of prior-approval filings to record."""

    approvals: QuerySet[SponsorRoute]
    filings: QuerySet[FilingAssessment]
    agency: QuerySet[FilingDecision]

    @property
    def count(self) -> int:
        return self.approvals.count() + self.filings.count() + self.agency.count()


def awaiting_decision(membership: Membership) -> Awaiting:
    from changes.filing_rules import FilingCategory

    org = membership.organization_id
    approvals = (SponsorRoute.objects.filter(sponsor_id=org, requirement=SponsorRoute.Requirement.APPROVAL,
                                             change__state=State.PENDING_APPROVAL,
                                             round=F("change__approval_round"))
                 .exclude(Exists(Approval.objects.filter(change=OuterRef("change"), partnership=OuterRef("partnership"),
                                                         round=OuterRef("round"))))
                 .select_related("change").order_by("change__proposed_implementation_date", "id"))
    filings = (FilingAssessment.objects.filter(sponsor_id=org, superseded=False,
                                               change__state__in=[State.ASSESSMENT, State.PENDING_APPROVAL,
                                                                  State.APPROVED])
               .exclude(suggested_category=FilingCategory.NOT_ASSESSED)
               .exclude(Exists(FilingDecision.objects.filter(assessment=OuterRef("pk"))))
               .select_related("change", "product").order_by("change__proposed_implementation_date", "id"))
    agency = (FilingDecision.objects.filter(organization_id=org, agency_approved_on__isnull=True,
                                            confirmed_category__in=FilingCategory.prior_approval(),
                                            assessment__superseded=False)
              .exclude(change__state__in=[State.CANCELLED])
              .select_related("change", "assessment__product").order_by("decided_at", "id"))
    return Awaiting(approvals=approvals, filings=filings, agency=agency)
