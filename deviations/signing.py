"""Signable deviation records (part11.signatures does the signing).

- ``close``: a CMO QA approver approves the investigation and closes the deviation; the person who wrote the
  report may not (author ≠ approver), and every affected sponsor must have been told first.
- ``cancel``: a CMO QA approver signs the cancellation, over the recorded reason.
"""

from __future__ import annotations

import hashlib
from typing import Any

from deviations import selectors
from deviations.models import Deviation, Notice
from part11.canonical import canonical_json
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability


def _closable(deviation: Deviation) -> str | None:
    if deviation.state != Deviation.State.PENDING_APPROVAL:
        return (f"{deviation.number} is {deviation.get_state_display().lower()}; only a deviation pending QA "
                "approval is closed.")
    untold = Notice.objects.filter(deviation=deviation, superseded=False, notified_at__isnull=True).count()
    if untold:
        return f"Notify the affected sponsor{'s' if untold > 1 else ''} first ({untold} not yet told)."
    return None


def _cancellable(deviation: Deviation) -> str | None:
    if not deviation.is_open:
        return f"{deviation.number} is already {deviation.get_state_display().lower()}."
    if not deviation.cancel_reason.strip():
        return "Record the reason for cancelling first."
    return None


def deviation_content(deviation: Deviation) -> dict[str, Any]:
    """What the approver signs: the whole write-up, every affected product line and its impact assessment."""
    return {
        "record": "deviation", "id": deviation.pk, "number": deviation.number, "title": deviation.title,
        "organization": deviation.organization_id, "site": deviation.site_id,
        "area_equipment": deviation.area_equipment, "process_step": deviation.process_step,
        "category": deviation.category, "discovered_at": deviation.discovered_at.isoformat(),
        "discovered_by": deviation.discovered_by, "description": deviation.description,
        "immediate_actions": deviation.immediate_actions, "classification": deviation.classification,
        "classification_rationale": deviation.classification_rationale,
        "investigation_method": deviation.investigation_method, "findings": deviation.findings,
        "root_cause": [deviation.root_cause_code, deviation.root_cause_version, deviation.root_cause_label],
        "conclusion": deviation.conclusion, "outcome": deviation.outcome,
        "capa_not_required_reason": deviation.capa_not_required_reason, "cancel_reason": deviation.cancel_reason,
        # Each line as its SHA-256: the signature binds every sponsor's line exactly, yet the signed content any
        # party can read (signature records, PDFs) reveals no sponsor's product, batch or impact to another.
        "lines": [hashlib.sha256(canonical_json({
            "partnership": line.partnership_id, "product": line.product_id, "batches": sorted(line.batch_numbers),
            "impact": line.impact}).encode()).hexdigest() for line in deviation.lines.order_by("id")],
    }


def _on_signed(deviation: Deviation, signature: Any) -> None:
    from deviations import services

    if signature.step == "close":
        services.on_closed(deviation, signature)
    elif signature.step == "cancel":
        services.on_cancelled(deviation, signature)


register(Signable(
    model=Deviation, selector=selectors.deviation_list, canonical=deviation_content, on_signed=_on_signed,
    rules=(
        SignatureRule(step="close", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the investigation and close", signer_organization=lambda d: d.organization_id,
                      precondition=_closable, not_by=lambda d: d.created_by_id,
                      not_by_reason="The person who reported this deviation may not approve its closure "
                                    "(author ≠ approver)."),
        SignatureRule(step="cancel", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the cancellation", signer_organization=lambda d: d.organization_id,
                      precondition=_cancellable),
    )), label="Deviation")
