"""The signable 483 response (part11.signatures does the signing).

- ``review``: a CMO QA reviewer (or approver) signs "reviewed" once every observation has a drafted commitment.
- ``approve``: a CMO QA approver signs "approved", after a live review and not by the reviewer (two people).

Any change to the 483 while drafting, to an observation or to an affected line voids both (database trigger,
migration 0002), so the response submitted is exactly the response approved.
"""

from __future__ import annotations

import hashlib
from typing import Any

from inspections import selectors
from inspections.models import Form483, Observation
from part11.canonical import canonical_json
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability


def _observation_hash(observation: Observation) -> str:
    return hashlib.sha256(canonical_json({
        "number": observation.number, "text": observation.text, "cited": observation.cited_regulation,
        "category": [observation.subpart, observation.system], "repeat": observation.is_repeat,
        "accountability": [observation.accountability, observation.accountability_rationale],
        "visibility": observation.visibility,
        "affected": sorted([a.partnership_id, a.product_id or 0] for a in observation.affected.all()),
        "response": [observation.response_commitment, observation.response_actions,
                     observation.response_target_on.isoformat() if observation.response_target_on else None,
                     observation.response_evidence],
    }).encode()).hexdigest()


def form483_content(form483: Form483) -> dict[str, Any]:
    """What is signed: the 483 and each observation with its response, the observations as SHA-256s, so that the
    signed content a sponsor can read never reveals an observation (or a product) it may not see."""
    return {
        "record": "form 483 response", "id": form483.pk, "inspection": form483.inspection_id,
        "organization": form483.organization_id, "issued_on": form483.issued_on.isoformat(),
        "amended": form483.amended, "amendment_reason": form483.amendment_reason,
        "update_interval_days": form483.update_interval_days,
        "observations": [_observation_hash(o) for o in form483.observations.order_by("number", "id")
                         .prefetch_related("affected")],
    }


def _signable(form483: Form483) -> str | None:
    if form483.state != Form483.State.DRAFTING:
        return f"The response is already {form483.get_state_display().lower()}."
    numbers = list(form483.observations.order_by("number").values_list("number", "response_commitment"))
    if not numbers:
        return "Record the 483's observations first."
    missing = [str(number) for number, commitment in numbers if not commitment.strip()]
    if missing:
        return f"Draft the response to every observation first (missing: {', '.join(missing)})."
    return None


register(Signable(
    model=Form483, selector=selectors.form483_list, canonical=form483_content,
    rules=(
        SignatureRule(step="review", meaning="reviewed", capability=Capability.REVIEW_QUALITY_RECORDS,
                      label="Review the 483 response", signer_organization=lambda f: f.organization_id,
                      precondition=_signable),
        SignatureRule(step="approve", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the 483 response", signer_organization=lambda f: f.organization_id,
                      precondition=_signable, requires=("reviewed",), different_from=("reviewed",)),
    )), label="Form 483 response")
