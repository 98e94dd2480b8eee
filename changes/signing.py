"""Signable change records (part11.signatures does the signing).

- ``approve``: the owner's QA approver approves the change, after every sponsor approval its routes require; the
  person who raised the change may not (author ≠ approver).
- ``close``: the owner's QA approver closes the change by signing its effectiveness review (a row of its own, whose
  content binds the change too), not the person who raised the change. Keeping the review out of the change's
  content means the approval signature still matches the change as approved after the review is added.
- ``cancel``: the owner's QA approver signs the cancellation, over the recorded reason.
- A sponsor's approval or rejection is its own ``Approval`` row, created with its signature (``sign_new``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from changes import selectors
from changes.models import Approval, ChangeRequest, EffectivenessReview
from part11.canonical import canonical_json
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability

State = ChangeRequest.State


def change_content(change: ChangeRequest, partnership_id: int | None = None) -> dict[str, Any]:
    """What is signed: the change, its impact assessment, and each product line with its current filing
    suggestions as a SHA-256, so no signed content any party can read reveals another sponsor's products.

    ``partnership_id``: only that partnership's lines (what a sponsor's approval binds, the same whoever verifies)."""
    lines = []
    own = change.lines.order_by("id")
    if partnership_id is not None:
        own = own.filter(partnership_id=partnership_id)
    for line in own:
        assessments = [[a.market, a.suggested_category, a.rule_id, a.rules_version]
                       for a in line.assessments.filter(superseded=False).order_by("market", "id")]
        lines.append(hashlib.sha256(canonical_json({
            "partnership": line.partnership_id, "product": line.product_id, "filing": assessments}).encode()
        ).hexdigest())
    return {
        "record": "change request", "id": change.pk, "number": change.number, "organization": change.organization_id,
        "title": change.title, "description": change.description, "reason": change.reason,
        "change_type": change.change_type, "site": change.site_id,
        "proposed_implementation_date": change.proposed_implementation_date.isoformat(),
        "permanent": change.permanent,
        "temporary_until": change.temporary_until.isoformat() if change.temporary_until else None,
        "answers": change.answers, "risk": [change.risk_rating, change.risk_rationale],
        "cancel_reason": change.cancel_reason,
        "lines": lines,
    }


def approval_content(approval: Approval) -> dict[str, Any]:
    return {"record": "change approval", "id": approval.pk, "sponsor": approval.organization_id,
            "partnership": approval.partnership_id, "round": approval.round, "decision": approval.decision,
            "comment": approval.comment,
            "change": change_content(approval.change, approval.partnership_id)}


def _approvable(change: ChangeRequest) -> str | None:
    from changes.services import missing_sponsor_approvals

    if change.state != State.PENDING_APPROVAL:
        return f"{change.number} is {change.get_state_display().lower()}; only a change pending approval is approved."
    missing = missing_sponsor_approvals(change)
    if missing:
        return "The sponsors approve first. Missing: " + "; ".join(missing) + "."
    return None


def review_content(review: EffectivenessReview) -> dict[str, Any]:
    return {"record": "change effectiveness review", "id": review.pk, "effective": review.effective,
            "summary": review.summary, "reviewed_by": review.reviewed_by_id,
            "reviewed_at": review.reviewed_at.isoformat(), "change": change_content(review.change)}


def _closable(review: EffectivenessReview) -> str | None:
    change = review.change
    if change.state != State.EFFECTIVENESS_REVIEW:
        return f"{change.number} is {change.get_state_display().lower()}; only a reviewed change is closed."
    return None


def _cancellable(change: ChangeRequest) -> str | None:
    if change.state not in (State.DRAFT, State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED):
        return f"{change.number} is {change.get_state_display().lower()}; it can no longer be cancelled."
    if not change.cancel_reason.strip():
        return "Record the reason for cancelling first."
    return None


def _on_change_signed(change: ChangeRequest, signature: Any) -> None:
    from changes import services

    {"approve": services.on_approved, "cancel": services.on_cancelled}[signature.step](change, signature)


def _on_approval_signed(approval: Approval, signature: Any) -> None:
    from changes import services

    services.on_approval_signed(approval, signature)


def _on_review_signed(review: EffectivenessReview, signature: Any) -> None:
    from changes import services

    services.on_closed(review, signature)


NOT_BY_AUTHOR = "The person who raised this change may not approve or close it (author ≠ approver)."

register(Signable(
    model=ChangeRequest, selector=selectors.change_list, canonical=change_content, on_signed=_on_change_signed,
    rules=(
        SignatureRule(step="approve", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the change (QA)", signer_organization=lambda c: c.organization_id,
                      precondition=_approvable, not_by=lambda c: c.created_by_id, not_by_reason=NOT_BY_AUTHOR),
        SignatureRule(step="cancel", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the cancellation", signer_organization=lambda c: c.organization_id,
                      precondition=_cancellable),
    )), label="Change request")

register(Signable(
    model=EffectivenessReview, selector=selectors.review_list, canonical=review_content,
    on_signed=_on_review_signed,
    rules=(
        SignatureRule(step="close", meaning="closed", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Close the change", signer_organization=lambda r: r.organization_id,
                      precondition=_closable, not_by=lambda r: r.change.created_by_id, not_by_reason=NOT_BY_AUTHOR),
    )), label="Change effectiveness review")

register(Signable(
    model=Approval, selector=selectors.approval_list, canonical=approval_content, on_signed=_on_approval_signed,
    rules=(
        SignatureRule(step="sponsor_approve", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the change (sponsor)", signer_organization=lambda a: a.organization_id),
        SignatureRule(step="sponsor_reject", meaning="rejected", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Reject the change (sponsor)", signer_organization=lambda a: a.organization_id),
    )), label="Change approval")
