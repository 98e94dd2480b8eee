"""Drift flags for the agreement page (DESIGN.md §4 "Common failures": a change notified too late, or needing a
filing nobody assessed).

The services refuse to implement a change with a required approval missing, a filing undecided or a
notification-only sponsor untold, so these flags catch what the services never saw: changes recorded before a rule
applied (history loaded, an agreement that later classified a change type), imports, or a later edit to the data.
The tests build such drift with direct ORM writes in the system context.

``drift_flags`` reads with the caller's row-level security: the CMO and the partnership's sponsor both see every
line of the partnership, never another sponsor's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from agreements.catalogue import ChangeClass
from agreements.selectors import effective_terms
from changes.models import AffectedProduct, Approval, ChangeRequest, FilingAssessment, FilingDecision, SponsorRoute
from tenants.models import Partnership

IMPLEMENTED = (ChangeRequest.State.IMPLEMENTED, ChangeRequest.State.EFFECTIVENESS_REVIEW, ChangeRequest.State.CLOSED)


@dataclass(frozen=True)
class DriftFlag:
    code: str  # "approval_missing", "filing_missing", "never_notified"
    change_id: int
    number: str
    text: str


def drift_flags(partnership: Partnership) -> list[DriftFlag]:
    lines = (AffectedProduct.objects.filter(partnership=partnership, change__state__in=IMPLEMENTED)
             .select_related("change", "product").order_by("change__implemented_at", "change_id", "id"))
    by_change: dict[int, list[AffectedProduct]] = {}
    for line in lines:
        by_change.setdefault(line.change_id, []).append(line)
    if not by_change:
        return []
    # The round the change was implemented in is its last: earlier (withdrawn) rounds do not count.
    routes = {r.change_id: r for r in SponsorRoute.objects.filter(partnership=partnership, change_id__in=by_change,
                                                                  round=F("change__approval_round"))}
    approved = set(Approval.objects.filter(partnership=partnership, change_id__in=by_change,
                                           round=F("change__approval_round"),
                                           decision=Approval.Decision.APPROVED).values_list("change_id", flat=True))
    current = list(FilingAssessment.objects.filter(partnership=partnership, change_id__in=by_change,
                                                   superseded=False).exclude(suggested_category="not_assessed"))
    decided = set(FilingDecision.objects.filter(assessment__in=current).values_list("assessment_id", flat=True))
    terms = effective_terms(partnership)
    flags: list[DriftFlag] = []
    for change_id, own in by_change.items():
        change = own[0].change
        if change.organization_id == partnership.sponsor_id:
            continue  # the sponsor's own change: no approval or notice of itself
        route = routes.get(change_id)
        label = ChangeClass(change.change_type).label.lower()
        notify_only = (route.requirement == SponsorRoute.Requirement.NOTIFY if route is not None
                       else change.change_type in terms.change_notify_only)
        if not notify_only and change_id not in approved:
            flags.append(DriftFlag("approval_missing", change_id, change.number,
                                   f"{change.number} ({label}) was implemented without the sponsor's signed approval."))
        if notify_only and change.change_type == ChangeClass.EQUIPMENT_LIKE_FOR_LIKE and (
                route is None or route.notified_at is None):
            flags.append(DriftFlag("never_notified", change_id, change.number,
                                   f"{change.number}: a like-for-like equipment change was implemented and the "
                                   "sponsor was never notified."))
        for line in own:
            mine = [a for a in current if a.line_id == line.pk]
            if not mine or any(a.pk not in decided for a in mine):
                what = "assessed" if not mine else "decided by the sponsor"
                flags.append(DriftFlag("filing_missing", change_id, change.number,
                                       f"{change.number} was implemented with the filing for {line.product.code} "
                                       f"never {what}."))
    return flags
