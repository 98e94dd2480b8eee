"""Signable dispositions (part11.signatures does the signing).

Each step of the release chain is a disposition row signed by the party that performs it. What is signed is the
decision with its justification or reason, the deviations open at that moment, and the batch record as it stands:
its data, QC results, changes in effect and the SHA-256 of every current document. A sponsor releasing a batch
therefore signs exactly the record the CMO released; any later difference shows in the verification.
"""

from __future__ import annotations

from typing import Any

from batches import selectors
from batches.models import Batch, ChangeInEffect, Disposition, Document, QcResult
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability

Step = Disposition.Step

NOT_BY_SUBMITTER = ("The person who submitted this batch record for QA review may not also decide on it (production "
                    "≠ quality unit).")


def batch_content(batch: Batch) -> dict[str, Any]:
    """The batch record as any party reads it (no deviation content: that is each sponsor's own view)."""
    return {
        "record": "batch", "id": batch.pk, "cmo": batch.organization_id, "sponsor": batch.sponsor_id,
        "partnership": batch.partnership_id, "product": batch.product_id, "lot_number": batch.lot_number,
        "site": batch.site_id, "manufactured_on": batch.manufactured_on.isoformat(),
        "completed_on": batch.completed_on.isoformat() if batch.completed_on else None,
        "expiry_date": batch.expiry_date.isoformat() if batch.expiry_date else None,
        "quantity": f"{batch.quantity.normalize():f}", "unit": batch.unit, "release_model": batch.release_model,
        "qc_results": [[r.test, r.specification, r.result, r.passed, r.oos]
                       for r in QcResult.objects.filter(batch=batch).order_by("position", "id")],
        "changes": [[c.reference, c.title] for c in ChangeInEffect.objects.filter(batch=batch).order_by("reference")],
        "documents": [[d.kind, d.file.sha256] for d in Document.objects.filter(batch=batch, superseded=False)
                      .select_related("file").order_by("kind", "id")],
    }


def disposition_content(disposition: Disposition) -> dict[str, Any]:
    return {
        "record": "batch disposition", "id": disposition.pk, "party": disposition.organization_id,
        "step": disposition.step, "decision": disposition.decision, "justification": disposition.justification,
        "reason": disposition.reason, "open_deviations": list(disposition.open_deviations),
        "batch": batch_content(disposition.batch),
    }


def _on_signed(disposition: Disposition, signature: Any) -> None:
    from batches import services

    services.on_disposition_signed(disposition, signature)


def _rule(step: str, meaning: str, label: str, capability: Capability = Capability.APPROVE_QUALITY_RECORDS,
          cmo: bool = False) -> SignatureRule:
    return SignatureRule(step=step, meaning=meaning, capability=capability, label=label,
                         signer_organization=lambda d: d.organization_id,
                         not_by=(lambda d: d.batch.submitted_by_id) if cmo else None,
                         not_by_reason=NOT_BY_SUBMITTER)


SIGNABLE = Signable(
    model=Disposition, selector=selectors.disposition_list, canonical=disposition_content, on_signed=_on_signed,
    rules=(
        _rule(Step.CMO_RELEASE, "released", "Release the batch (CMO quality unit)", cmo=True),
        _rule(Step.CMO_SUBMIT, "reviewed", "Review the batch record and send it for the sponsor's release",
              Capability.REVIEW_QUALITY_RECORDS, cmo=True),
        _rule(Step.CMO_REJECT, "rejected", "Reject the batch (CMO quality unit)", cmo=True),
        _rule(Step.SPONSOR_RELEASE, "released", "Release the batch (sponsor)"),
        _rule(Step.QP_CERTIFY, "certified", "Certify the batch (Qualified Person)"),
        _rule(Step.SPONSOR_REJECT, "rejected", "Reject the batch (sponsor)"),
    ))
register(SIGNABLE, label="Batch disposition")
# The batch itself carries no signature (its dispositions do); registering it gives it the record PDF (the
# dossier) and the audit-trail review every regulated record has.
register(Signable(model=Batch, selector=selectors.batch_list, canonical=batch_content), label="Batch")
