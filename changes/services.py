"""Writes for change control (DESIGN.md §5): every change goes through here, in one transaction with its audit event
and its clocks.

Workflow: draft → impact assessed (questionnaire answered, filing suggestions computed per product and market) →
pending approval (routes fixed from each affected partnership's agreement) → approved (the owner's QA signs, after
every required sponsor approval) → implemented (refused until nothing is missing) → effectiveness reviewed →
closed (the owner's QA signs). Cancel: signed, with the reason, any time before implementation.

Routing, per affected partnership, from its effective agreement (``agreements.selectors.effective_terms``):

- change class in ``change_sponsor_approval`` → the sponsor's signed approval is required;
- change class in ``change_notify_only`` → no approval, but the owner must notify the sponsor at least
  ``change_notice_lead_days`` calendar days before the proposed implementation date: a clock owned by the owner,
  with the sponsor in its audience, starting when the change goes for approval and due at the end of (proposed
  implementation date − lead days), UTC; met when the owner notifies the sponsor through the app
  (``change_notify``). A change submitted too late to give that notice is refused (move the date);
- neither listed → treated as sponsor approval required (conservative), and the route says so.

The owner's QA approval is always required, by an approver who did not raise the change. Filing: the product's
owner (the sponsor) confirms or overrides each suggested category (an override needs its reason); for a
prior-approval supplement or a Type II variation it also records the agency's approval. The effectiveness review is
due ``EFFECTIVENESS_REVIEW_DAYS`` calendar days after implementation (a clock; industry practice, not regulation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agreements.catalogue import ChangeClass
from agreements.selectors import effective_terms
from changes import filing_rules, questionnaire
from changes.filing_rules import FilingCategory
from changes.models import (
    AffectedProduct,
    Approval,
    ChangeDocument,
    ChangeRequest,
    EffectivenessReview,
    FilingAssessment,
    FilingDecision,
    RiskRating,
    SponsorRoute,
)
from clocks import services as clocks
from clocks.calendars import Unit
from clocks.models import Deadline
from clocks.rules import Rule, reminders
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import bump_version, versioned_save
from tenants.models import Membership, Partnership, Product, Site
from tenants.numbering import next_number
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY

State = ChangeRequest.State
Requirement = SponsorRoute.Requirement
EFFECTIVENESS_REVIEW_DAYS = 90
HEADER_FIELDS = ("title", "description", "reason", "change_type", "site", "proposed_implementation_date",
                 "permanent", "temporary_until")
#: States in which the product owner may confirm a filing category.
DECIDABLE = (State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED)
IMPLEMENTED_STATES = (State.IMPLEMENTED, State.EFFECTIVENESS_REVIEW, State.CLOSED)


# --- Guards -----------------------------------------------------------------------------------------------------


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, change: ChangeRequest) -> None:
    if change.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)


def _require_state(change: ChangeRequest, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if change.state not in allowed:
        names = " or ".join(State(s).label.lower() for s in allowed)
        raise ValidationError({"state": f"Cannot {action}: {change.number} is {change.get_state_display().lower()}; "
                                        f"this needs it {names}."})


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Give {what}; it is recorded in the audit trail."})
    return text


def _validate(change: ChangeRequest) -> None:
    full_clean_by_field(change, exclude=["organization", "created_by", "site", "assessed_by", "implemented_by",
                                         "effectiveness_deadline"])
    if change.permanent:
        change.temporary_until = None
    elif change.temporary_until is None:
        raise ValidationError({"temporary_until": "A temporary change needs the date it ends."})
    elif change.temporary_until < change.proposed_implementation_date:
        raise ValidationError({"temporary_until": "A temporary change ends after it is implemented."})


def _check_site(membership: Membership, site: Site | None) -> None:
    if site is None:
        if membership.organization.is_cmo:
            raise ValidationError({"site": "Name the site where the change is made."})
        return
    if site.organization_id != membership.organization_id:
        raise ValidationError({"site": "Choose one of your organization's sites."})


# --- Create and edit --------------------------------------------------------------------------------------------


@transaction.atomic
def change_create(*, membership: Membership, title: str, description: str, reason: str, change_type: str,
                  proposed_implementation_date: dt.date, product_ids: Sequence[int], site: Site | None = None,
                  permanent: bool = True, temporary_until: dt.date | None = None) -> ChangeRequest:
    """Raise a change (a draft): by the CMO for products it makes, or by a sponsor for its own products."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _check_site(membership, site)
    change = ChangeRequest(
        organization_id=membership.organization_id, number="CHG-pending", title=title, description=description,
        reason=reason, change_type=change_type, site=site, proposed_implementation_date=proposed_implementation_date,
        permanent=permanent, temporary_until=temporary_until, created_by=membership.user)
    _validate(change)
    change.number = next_number(membership.organization_id, "CHG", timezone.localdate())
    change.save()
    _set_lines(membership, change, product_ids)
    return change


@transaction.atomic
def change_update(*, membership: Membership, change: ChangeRequest, expected_version: int | None = None,
                  precondition: bool = False, **changes: Any) -> ChangeRequest:
    """Edit the description while the change is editable. A new change type makes the answers meaningless: the
    change goes back to draft and its filing assessments are superseded (the questionnaire is answered again)."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if not change.is_editable:
        raise ValidationError({"state": f"{change.number} is {change.get_state_display().lower()}; it can no longer "
                                        "be edited."})
    unknown = set(changes) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    if "site" in changes:
        _check_site(membership, changes["site"])
    changed = [name for name, value in changes.items() if getattr(change, name) != value]
    for name in changed:
        setattr(change, name, changes[name])
    _validate(change)
    fields = [("site_id" if name == "site" else name) for name in changed]
    if "temporary_until" not in fields and change.permanent and "permanent" in changed:
        fields.append("temporary_until")
    retyped = "change_type" in changed and change.state == State.ASSESSMENT
    if retyped:
        change.state, change.answers, change.assessed_at = State.DRAFT, {}, None
        fields += ["state", "answers", "assessed_at"]
    versioned_save(change, fields, expected_version, precondition)
    if retyped:
        _supersede(change.assessments.filter(superseded=False))
    return change


@transaction.atomic
def lines_set(*, membership: Membership, change: ChangeRequest, product_ids: Sequence[int],
              expected_version: int | None = None, precondition: bool = False) -> ChangeRequest:
    """Replace the affected products; once assessed, the filing suggestions follow."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if not change.is_editable:
        raise ValidationError({"lines": f"{change.number} is {change.get_state_display().lower()}; its affected "
                                        "products can no longer change."})
    bump_version(change, expected_version, precondition)
    _set_lines(membership, change, product_ids)
    if change.state == State.ASSESSMENT:
        _assess_filings(change)
    return change


def _partnership_for(membership: Membership, product_id: int) -> Partnership | None:
    org = membership.organization_id
    if membership.organization.is_cmo:
        return Partnership.objects.filter(cmo_id=org, products=product_id).order_by("id").first()
    if not Product.objects.filter(pk=product_id, organization_id=org).exists():
        return None
    return Partnership.objects.filter(sponsor_id=org, products=product_id).order_by("id").first()


def _set_lines(membership: Membership, change: ChangeRequest, product_ids: Sequence[int]) -> None:
    if not product_ids:
        raise ValidationError({"lines": "Name at least one affected product."})
    if len(set(product_ids)) != len(product_ids):
        raise ValidationError({"lines": "A product is listed twice."})
    partnerships = {}
    for index, product_id in enumerate(product_ids):
        partnership = _partnership_for(membership, product_id)
        if partnership is None:
            raise ValidationError({f"lines.{index}": "This product is not one your organization makes for a sponsor, "
                                                     "nor one of your own products made by a partner."})
        partnerships[product_id] = partnership
    removed = AffectedProduct.objects.filter(change=change).exclude(product_id__in=product_ids)
    decided = FilingDecision.objects.filter(assessment__line__in=removed).select_related("assessment__product")
    if decided.exists():
        raise ValidationError({"lines": f"The filing for {decided[0].assessment.product.code} is already decided by "
                                        "its owner; the product cannot be removed from this change."})
    removed.delete()
    existing = set(AffectedProduct.objects.filter(change=change).values_list("product_id", flat=True))
    AffectedProduct.objects.bulk_create([
        AffectedProduct(change=change, organization_id=change.organization_id, partnership=partnerships[pid],
                        sponsor_id=partnerships[pid].sponsor_id, cmo_id=partnerships[pid].cmo_id, product_id=pid)
        for pid in product_ids if pid not in existing])


# --- Impact and filing assessment ---------------------------------------------------------------------------


@transaction.atomic
def impact_assess(*, membership: Membership, change: ChangeRequest, answers: Mapping[str, Any], risk_rating: str,
                  risk_rationale: str, expected_version: int | None = None,
                  precondition: bool = False) -> ChangeRequest:
    """Record the impact questionnaire and the risk; compute (or recompute) the filing suggestions."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.DRAFT, State.ASSESSMENT], "assess its impact")
    clean = questionnaire.validate(change.change_type, answers)
    if risk_rating not in RiskRating.values:
        raise ValidationError({"risk_rating": "Choose low, medium or high."})
    rationale = _text(risk_rationale, "risk_rationale", "the rationale for the risk rating")
    change.answers, change.risk_rating, change.risk_rationale = clean, risk_rating, rationale
    change.state, change.assessed_at, change.assessed_by = State.ASSESSMENT, timezone.now(), membership.user
    versioned_save(change, ["answers", "risk_rating", "risk_rationale", "state", "assessed_at", "assessed_by_id"],
                   expected_version, precondition)
    _assess_filings(change)
    return change


def _supersede(assessments: Any) -> None:
    assessments.update(superseded=True)


def _assess_filings(change: ChangeRequest) -> list[FilingAssessment]:
    """One current assessment per affected product and market it is marketed in. An unchanged suggestion keeps its
    row (and the sponsor's decision on it); a changed one supersedes the old row, which is kept for the record."""
    current = {(a.line_id, a.market): a for a in change.assessments.filter(superseded=False)}
    keep: set[int] = set()
    created = []
    for line in change.lines.select_related("product"):
        for market in sorted(set(line.product.markets)):
            suggestion = filing_rules.suggest(market, change.change_type, change.answers)
            row = current.get((line.pk, market))
            if row is not None and (row.suggested_category, row.rule_id, row.rules_version, row.rule_text) == (
                    suggestion.category, suggestion.rule_id, suggestion.rules_version, suggestion.rule_text):
                keep.add(row.pk)
                continue
            created.append(FilingAssessment(
                change=change, line=line, organization_id=change.organization_id, partnership_id=line.partnership_id,
                sponsor_id=line.sponsor_id, product_id=line.product_id, market=market,
                suggested_category=suggestion.category, rule_id=suggestion.rule_id, rule_text=suggestion.rule_text,
                rules_version=suggestion.rules_version))
    _supersede(change.assessments.filter(superseded=False).exclude(pk__in=keep))
    return FilingAssessment.objects.bulk_create(created)


@transaction.atomic
def filing_decide(*, membership: Membership, assessment: FilingAssessment, category: str,
                  override_reason: str = "") -> FilingDecision:
    """The product's owner confirms the suggested category, or overrides it with the reason. Never the CMO."""
    if assessment.sponsor_id != membership.organization_id:
        raise PermissionDenied("Only the product's owner (the sponsor that holds the marketing authorization) "
                               "confirms its filing category; the CMO's suggestion is not final.")
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    change = assessment.change
    _require_state(change, DECIDABLE, "decide the filing")
    if assessment.superseded:
        raise ValidationError({"assessment": "The impact assessment changed since this suggestion: decide on the "
                                             "current one."})
    if not assessment.needs_decision:
        raise ValidationError({"assessment": f"{assessment.market} is outside the rule table; nothing to confirm."})
    if FilingDecision.objects.filter(assessment=assessment).exists():
        raise ValidationError({"assessment": "The filing category is already decided."})
    rule_market = filing_rules.RULE_MARKET[assessment.market]
    if category not in FilingCategory.for_market(rule_market):
        raise ValidationError({"category": f"Choose a {rule_market} category."})
    reason = (override_reason or "").strip()
    if category != assessment.suggested_category and not reason:
        raise ValidationError({"override_reason": "Give the reason for overriding the suggested category "
                                                  f"({assessment.get_suggested_category_display()})."})
    decision = FilingDecision.objects.create(
        assessment=assessment, change=change, organization_id=membership.organization_id,
        cmo_id=change.organization_id, partnership_id=assessment.partnership_id, confirmed_category=category,
        override_reason=reason if category != assessment.suggested_category else "", decided_by=membership.user,
        decided_by_name=membership.user.printed_name)
    if change.organization_id != membership.organization_id:
        verdict = "confirmed" if category == assessment.suggested_category else "overrode the suggestion with"
        clocks.notify_partner(
            partnership_id=assessment.partnership_id, record=change,
            subject=f"{change.number}: filing for {assessment.product.code} ({assessment.market}) decided",
            body=f"{membership.user.printed_name} {verdict} {FilingCategory(category).label}."
                 + (f"\n\nReason: {reason}" if decision.override_reason else ""))
    return decision


@transaction.atomic
def filing_approval_record(*, membership: Membership, decision: FilingDecision, approved_on: dt.date,
                           reference: str = "") -> FilingDecision:
    """The product's owner records that the agency approved a prior-approval supplement or Type II variation."""
    if decision.organization_id != membership.organization_id:
        raise PermissionDenied("Only the product's owner records the agency's approval of its filing.")
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if not decision.needs_agency_approval:
        raise ValidationError({"decision": f"A {decision.get_confirmed_category_display()} needs no prior approval."})
    if decision.agency_approved_on is not None:
        raise ValidationError({"decision": "The agency's approval is already recorded."})
    if approved_on > timezone.localdate():
        raise ValidationError({"approved_on": "The approval date cannot be in the future."})
    decision.agency_approved_on, decision.agency_reference = approved_on, (reference or "").strip()[:100]
    decision.approval_recorded_by, decision.approval_recorded_at = membership.user, timezone.now()
    decision.save(update_fields=["agency_approved_on", "agency_reference", "approval_recorded_by",
                                 "approval_recorded_at"])
    change = decision.change
    if change.organization_id != membership.organization_id:
        clocks.notify_partner(partnership_id=decision.partnership_id, record=change,
                              subject=f"{change.number}: agency approval recorded",
                              body=f"{membership.user.printed_name} recorded the agency's approval of the "
                                   f"{decision.get_confirmed_category_display()} on {approved_on:%d %b %Y}.")
    return decision


# --- Approval routing and notification -------------------------------------------------------------------------


@transaction.atomic
def change_submit(*, membership: Membership, change: ChangeRequest) -> ChangeRequest:
    """Impact assessed → pending approval: fix each affected partnership's route from its agreement."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.ASSESSMENT], "submit it for approval")
    lines = list(change.lines.select_related("partnership__sponsor", "product"))
    if not lines:
        raise ValidationError({"lines": "Name at least one affected product."})
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()
    partner_lines: dict[int, list[AffectedProduct]] = {}
    for line in lines:
        if line.sponsor_id != change.organization_id:
            partner_lines.setdefault(line.partnership_id, []).append(line)
    plans: list[tuple[Partnership, str, int | None, str]] = []
    for partnership_id, own in partner_lines.items():
        partnership = own[0].partnership
        terms = effective_terms(partnership_id)
        label = ChangeClass(change.change_type).label.lower()
        if change.change_type in terms.change_sponsor_approval:
            plans.append((partnership, Requirement.APPROVAL, None, f"{terms.source}: {label} changes need the "
                                                                   "sponsor's approval"))
        elif change.change_type in terms.change_notify_only:
            due = change.proposed_implementation_date - dt.timedelta(days=terms.change_notice_lead_days)
            if due < today:
                raise ValidationError({"proposed_implementation_date": (
                    f"{partnership.sponsor.name} must be notified {terms.change_notice_lead_days} days before a "
                    f"{label} change is implemented ({terms.source}): propose "
                    f"{today + dt.timedelta(days=terms.change_notice_lead_days):%d %b %Y} or later.")})
            plans.append((partnership, Requirement.NOTIFY, terms.change_notice_lead_days,
                          f"{terms.source}: {label} changes are notification-only, "
                          f"{terms.change_notice_lead_days} days before implementation"))
        else:
            plans.append((partnership, Requirement.APPROVAL, None,
                          f"{terms.source} does not classify {label} changes: sponsor approval required "
                          "(conservative default)"))
    change.state, change.submitted_at = State.PENDING_APPROVAL, now
    change.approval_round += 1
    versioned_save(change, ["state", "submitted_at", "approval_round"], None, False)
    for partnership_id in sorted({line.partnership_id for line in lines if line.sponsor_id == change.organization_id}):
        # A sponsor's own change: the CMO that makes the product is told (it sees the change read-only).
        products = ", ".join(line.product.code for line in lines if line.partnership_id == partnership_id)
        clocks.notify_partner(
            partnership_id=partnership_id, record=change,
            subject=f"{change.organization.name} submitted change {change.number}: {change.title}",
            body=f"{change.get_change_type_display()} change to {products}, proposed for "
                 f"{change.proposed_implementation_date:%d %b %Y}.\n\n{change.description}")
    for partnership, requirement, lead_days, source in plans:
        route = SponsorRoute.objects.create(
            change=change, organization_id=change.organization_id, partnership=partnership,
            sponsor_id=partnership.sponsor_id, requirement=requirement, source=source[:300], lead_days=lead_days,
            round=change.approval_round)
        products = ", ".join(line.product.code for line in partner_lines[partnership.pk])
        if requirement == Requirement.NOTIFY:
            assert lead_days is not None
            route.deadline = _notice_clock(change, route, lead_days, now)
            route.save(update_fields=["deadline"])
        else:
            clocks.notify_partner(
                partnership_id=partnership.pk, record=change,
                subject=f"{change.number} awaits your approval: {change.title}",
                body=f"{change.get_change_type_display()} change at {change.organization.name}, proposed for "
                     f"{change.proposed_implementation_date:%d %b %Y}. Your products: {products}.\n\n"
                     f"{change.description}")
    return change


def notice_due_date(change: ChangeRequest, lead_days: int) -> dt.date:
    """The last day the sponsor may be told: ``lead_days`` calendar days before the proposed implementation."""
    return change.proposed_implementation_date - dt.timedelta(days=lead_days)


def _notice_clock(change: ChangeRequest, route: SponsorRoute, lead_days: int, now: dt.datetime) -> Deadline:
    due = notice_due_date(change, lead_days)
    amount = (due - now.astimezone(dt.UTC).date()).days
    rule = Rule(code="change_sponsor_notice", title="Notify sponsor of a change before implementation",
                amount=amount, unit=Unit.CALENDAR_DAYS, calendar=None,
                start_event=f"change submitted ({lead_days} days' notice before implementation on "
                            f"{change.proposed_implementation_date:%d %b %Y})",
                stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS, escalate=(1,)), extendable=False)
    return clocks.deadline_create(organization_id=change.organization_id, record=change,
                                  subject_label=f"{change.number} → {route.partnership.sponsor.name}", rule=rule,
                                  starts_at=now, audience=[clocks.Audience(route.sponsor_id, ())])


@transaction.atomic
def change_notify(*, membership: Membership, change: ChangeRequest, message: str = "",
                  partnership_ids: Sequence[int] | None = None) -> list[SponsorRoute]:
    """Tell each notification-only sponsor not yet told (or the named ones), now; its clock is met."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.PENDING_APPROVAL, State.APPROVED], "notify the sponsors")
    pending = SponsorRoute.objects.filter(change=change, round=change.approval_round, requirement=Requirement.NOTIFY,
                                          notified_at__isnull=True)
    if partnership_ids is not None:
        pending = pending.filter(partnership_id__in=partnership_ids)
    routes = list(pending.select_related("deadline"))
    if not routes:
        raise ValidationError({"state": "Every notification-only sponsor has already been told of this change."})
    now = timezone.now()
    for route in routes:
        products = ", ".join(change.lines.filter(partnership_id=route.partnership_id)
                             .values_list("product__code", flat=True))
        told = clocks.notify_partner(
            partnership_id=route.partnership_id, record=change,
            subject=f"Change {change.number} (notification): {change.title}",
            body=f"{change.get_change_type_display()} change at {change.organization.name}, to be implemented on "
                 f"{change.proposed_implementation_date:%d %b %Y}. Your products: {products}.\n\n"
                 f"{change.description}" + (f"\n\nMessage from {membership.user.printed_name}: {message}"
                                            if message.strip() else ""))
        if not told:
            raise ValidationError({"state": "A sponsor has no active QA member to tell; ask its org admin to add one."})
        route.notified_at, route.notified_by, route.recipients = now, membership.user, told
        route.save(update_fields=["notified_at", "notified_by", "recipients"])
        if route.deadline is not None and not route.deadline.is_closed:
            clocks.deadline_complete(deadline=route.deadline, at=now)
    return routes


def approval_sign(*, request: Any, membership: Membership, change: ChangeRequest, approve: bool, comment: str = "",
                  password: str, otp: str | None = None) -> Any:
    """The sponsor's signed approval (or rejection, with the reason) of a change its agreement makes it approve.

    Not wrapped in a transaction of its own: a wrong password must stay recorded (lockout counts it) while nothing
    else is written; ``signatures.sign_new`` creates the approval, its signature and their effects atomically."""
    from part11 import signatures

    route = SponsorRoute.objects.filter(change=change, round=change.approval_round,
                                        sponsor_id=membership.organization_id,
                                        requirement=Requirement.APPROVAL).first()
    if route is None:
        raise PermissionDenied("Your organization's approval is not required for this change.")
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(change, [State.PENDING_APPROVAL], "decide on it")
    if Approval.objects.filter(change=change, partnership_id=route.partnership_id, round=route.round).exists():
        raise ValidationError({"step": "Your organization has already decided on this change."})
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": "Give the reason for rejecting the change."})
    decision = Approval.Decision.APPROVED if approve else Approval.Decision.REJECTED

    def create() -> Approval:
        return Approval.objects.create(change=change, organization_id=membership.organization_id,
                                       cmo_id=change.organization_id, partnership_id=route.partnership_id,
                                       decision=decision, comment=comment, decided_by=membership.user,
                                       round=route.round)

    return signatures.sign_new(request=request, membership=membership, create=create,
                               step="sponsor_approve" if approve else "sponsor_reject", password=password, otp=otp)


def on_approval_signed(approval: Approval, signature: Any) -> None:
    change = approval.change
    verdict = approval.get_decision_display().lower()
    clocks.notify_partner(partnership_id=approval.partnership_id, record=change,
                          subject=f"{change.number} {verdict} by {approval.organization.name}",
                          body=f"{signature.printed_name} signed: {verdict}."
                               + (f"\n\n{approval.comment}" if approval.comment else ""))


def change_sign_approve(*, request: Any, membership: Membership, change: ChangeRequest, password: str,
                        otp: str | None = None) -> Any:
    """The owner's QA approval (signed "approved"); refused while a required sponsor approval is missing."""
    from part11 import signatures

    _require_owner(membership, change)
    return signatures.sign(request=request, membership=membership, record=change, step="approve",
                           password=password, otp=otp)


def on_approved(change: ChangeRequest, signature: Any) -> None:
    change.state, change.approved_at = State.APPROVED, signature.signed_at
    versioned_save(change, ["state", "approved_at"], None, False)


# --- Implementation, effectiveness, closure, cancellation ------------------------------------------------------


def missing_sponsor_approvals(change: ChangeRequest, sponsor_id: int | None = None) -> list[str]:
    """Each required sponsor approval not (or not favourably) signed; only ``sponsor_id``'s when given."""
    out = []
    decided = {a.partnership_id: a for a in Approval.objects.filter(change=change, round=change.approval_round)}
    routes = change.routes.filter(requirement=Requirement.APPROVAL, round=change.approval_round
                                  ).select_related("sponsor")
    if sponsor_id is not None:
        routes = routes.filter(sponsor_id=sponsor_id)
    for route in routes:
        approval = decided.get(route.partnership_id)
        if approval is None:
            out.append(f"{route.sponsor.name}'s signed approval")
        elif approval.decision != Approval.Decision.APPROVED:
            out.append(f"{route.sponsor.name}'s approval (it rejected the change: {approval.comment})")
    return out


def implementation_blockers(change: ChangeRequest, membership: Membership | None = None) -> list[str]:
    """Everything still missing before ``change`` may be implemented, each item named.

    The owner sees every line, so every sponsor is named; for a sponsor (``membership`` of another organization)
    only its own items are listed (row-level security would hide the others anyway)."""
    partner = membership is not None and membership.organization_id != change.organization_id
    mine = membership.organization_id if membership is not None else None
    missing: list[str] = []
    if change.state not in (State.APPROVED, *IMPLEMENTED_STATES) and not partner:
        missing.append(f"the {change.organization.name} QA approval (signature)")
    missing += missing_sponsor_approvals(change, mine if partner else None)
    routes = change.routes.filter(round=change.approval_round).select_related("sponsor")
    if partner:
        routes = routes.filter(sponsor_id=mine)
    missing += [f"notification of {route.sponsor.name} (due {notice_due_date(change, route.lead_days or 0):%d %b %Y})"
                for route in routes if route.requirement == Requirement.NOTIFY and route.notified_at is None]
    lines = change.lines.select_related("product", "sponsor")
    assessments = (change.assessments.filter(superseded=False).select_related("product", "sponsor")
                   .order_by("line_id", "market"))
    if partner:
        lines, assessments = lines.filter(sponsor_id=mine), assessments.filter(sponsor_id=mine)
    assessed_lines = {a.line_id for a in assessments}
    missing += [f"the filing assessment for {line.product.code}" for line in lines if line.pk not in assessed_lines]
    decisions = {d.assessment_id: d for d in FilingDecision.objects.filter(assessment__in=assessments)}
    for assessment in assessments:
        if not assessment.needs_decision:
            continue
        decision = decisions.get(assessment.pk)
        owner = assessment.sponsor.name
        if decision is None:
            missing.append(f"{owner}'s filing decision for {assessment.product.code} ({assessment.market})")
        elif decision.needs_agency_approval and decision.agency_approved_on is None:
            missing.append(f"the agency's approval of the {decision.get_confirmed_category_display()} for "
                           f"{assessment.product.code} ({assessment.market}), recorded by {owner}")
    return missing


@transaction.atomic
def change_implement(*, membership: Membership, change: ChangeRequest, at: dt.datetime | None = None) -> ChangeRequest:
    """Approved → implemented, only when nothing is missing; starts the effectiveness-review clock.

    ``at`` is for loading history (the demo); pages and the API always implement now."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.PENDING_APPROVAL, State.APPROVED], "implement it")
    missing = implementation_blockers(change)
    if missing:
        raise ValidationError({"state": f"{change.number} cannot be implemented yet. Missing: "
                                        + "; ".join(missing) + "."})
    now = at or timezone.now()
    change.state, change.implemented_at, change.implemented_by = State.IMPLEMENTED, now, membership.user
    rule = Rule(code="change_effectiveness", title="Change effectiveness review", amount=EFFECTIVENESS_REVIEW_DAYS,
                unit=Unit.CALENDAR_DAYS, calendar=None, start_event="change implemented",
                stages=reminders(14, 7, unit=Unit.CALENDAR_DAYS, escalate=(1, 7)))
    sponsors = sorted(set(change.lines.exclude(sponsor_id=change.organization_id).values_list("sponsor_id", flat=True)))
    change.effectiveness_deadline = clocks.deadline_create(
        organization_id=change.organization_id, record=change, subject_label=str(change), rule=rule, starts_at=now,
        audience=[clocks.Audience(sponsor, ()) for sponsor in sponsors])
    versioned_save(change, ["state", "implemented_at", "implemented_by_id", "effectiveness_deadline_id"], None, False)
    for partnership_id in sorted(set(change.lines.exclude(sponsor_id=change.organization_id)
                                     .values_list("partnership_id", flat=True))):
        clocks.notify_partner(partnership_id=partnership_id, record=change,
                              subject=f"{change.number} implemented: {change.title}",
                              body=f"{membership.user.printed_name} recorded the implementation on {now:%d %b %Y}.")
    return change


@transaction.atomic
def effectiveness_record(*, membership: Membership, change: ChangeRequest, summary: str, effective: bool,
                         expected_version: int | None = None, precondition: bool = False) -> EffectivenessReview:
    """Implemented → effectiveness reviewed: the verdict and its evidence (a row of its own); the clock is met."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.IMPLEMENTED], "record the effectiveness review")
    summary = _text(summary, "summary", "the effectiveness review's summary and evidence")
    change.state = State.EFFECTIVENESS_REVIEW
    versioned_save(change, ["state"], expected_version, precondition)
    review = EffectivenessReview.objects.create(change=change, organization_id=change.organization_id,
                                                effective=bool(effective), summary=summary,
                                                reviewed_by=membership.user)
    deadline = change.effectiveness_deadline
    if deadline is not None and not deadline.is_closed:
        clocks.deadline_complete(deadline=deadline, at=review.reviewed_at)
    return review


def change_sign_close(*, request: Any, membership: Membership, change: ChangeRequest, password: str,
                      otp: str | None = None) -> Any:
    """The owner's QA closes the change by signing its effectiveness review ("closed"), which binds the change
    with it; not the person who raised the change."""
    from part11 import signatures

    _require_owner(membership, change)
    review = EffectivenessReview.objects.filter(change=change).first()
    if review is None:
        raise ValidationError({"step": f"{change.number}: record the effectiveness review first."})
    return signatures.sign(request=request, membership=membership, record=review, step="close", password=password,
                           otp=otp)


def on_closed(review: EffectivenessReview, signature: Any) -> None:
    change = review.change
    change.state, change.closed_at = State.CLOSED, signature.signed_at
    versioned_save(change, ["state", "closed_at"], None, False)


def change_cancel(*, request: Any, membership: Membership, change: ChangeRequest, reason: str, password: str,
                  otp: str | None = None) -> Any:
    """Record why (audited), then sign the cancellation over it. A refused signature leaves the reason recorded
    and the change open, and the failed attempt counted toward lockout."""
    from part11 import signatures

    _require_owner(membership, change)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(change, [State.DRAFT, State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED], "cancel it")
    change.cancel_reason = _text(reason, "reason", "the reason for cancelling")
    with reason_for_change(f"cancellation requested: {change.cancel_reason}"):
        versioned_save(change, ["cancel_reason"], None, False)
    return signatures.sign(request=request, membership=membership, record=change, step="cancel", password=password,
                           otp=otp)


def on_cancelled(change: ChangeRequest, signature: Any) -> None:
    change.state = State.CANCELLED
    versioned_save(change, ["state"], None, False)
    _end_round(change, f"{change.number} cancelled: {change.cancel_reason}", "cancelled", change.cancel_reason)


def _end_round(change: ChangeRequest, reason: str, verdict: str, body: str) -> None:
    """Stop the current round's notice clocks and tell its sponsors the change is ``verdict``."""
    for route in change.routes.filter(round=change.approval_round).select_related("deadline"):
        if route.deadline is not None and not route.deadline.is_closed:
            clocks.deadline_cancel(deadline=route.deadline, reason=reason)
        clocks.notify_partner(partnership_id=route.partnership_id, record=change,
                              subject=f"{change.number} {verdict}", body=body)


@transaction.atomic
def change_withdraw(*, membership: Membership, change: ChangeRequest, reason: str, expected_version: int | None = None,
                    precondition: bool = False) -> ChangeRequest:
    """Pending approval → impact assessed, so the owner can revise the change and submit it again (typically after
    a sponsor rejected it). The round ends: its notice clocks are cancelled and its sponsors told why; its routes
    and signed approvals stay as history, and the next submission opens a new round that needs fresh ones."""
    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(change, [State.PENDING_APPROVAL], "withdraw it for revision")
    reason = _text(reason, "reason", "why the change is withdrawn for revision")
    change.state = State.ASSESSMENT
    with reason_for_change(f"withdrawn for revision: {reason}"):
        versioned_save(change, ["state"], expected_version, precondition)
    _end_round(change, f"{change.number} withdrawn for revision: {reason}", "withdrawn for revision",
               f"{membership.user.printed_name} withdrew the change for revision: {reason}\n\nIt will be submitted "
               "again for your decision.")
    return change


#: States in which documents may be linked: once approved, through implementation and the effectiveness review.
DOCUMENT_STATES = (State.APPROVED, State.IMPLEMENTED, State.EFFECTIVENESS_REVIEW)


@transaction.atomic
def document_attach(*, membership: Membership, change: ChangeRequest, upload: Any, kind: str,
                    title: str = "") -> ChangeDocument:
    """Link a document (implementation record, validation report, updated procedure, filing) to an approved or
    implemented change; the file is validated and stored by ``tenants.files`` (type by content, size, name)."""
    from tenants import files

    _require_owner(membership, change)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if kind not in ChangeDocument.Kind.values:
        raise ValidationError({"kind": "Choose what the document is: "
                                       + ", ".join(str(label).lower() for label in ChangeDocument.Kind.labels) + "."})
    _require_state(change, DOCUMENT_STATES, "link documents to it")
    document = ChangeDocument.objects.create(change=change, organization_id=change.organization_id, kind=kind,
                                             title=(title or "").strip()[:200], uploaded_by=membership.user)
    # Stored against the document, not the change: the change's signatures keep matching (see the model).
    document.file = files.file_store(membership=membership, record=document, upload=upload)
    document.save(update_fields=["file"])
    bump_version(change)
    return document
