"""Signable CAPA records: ``close`` (all actions done, effectiveness passed or scheduled per procedure) and
``cancel`` (over the recorded reason), each by a QA approver of the owner."""

from __future__ import annotations

from typing import Any

from capa import selectors
from capa.models import Capa
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability


def _closable(capa: Capa) -> str | None:
    from capa.services import closure_refusal

    return closure_refusal(capa)


def _cancellable(capa: Capa) -> str | None:
    if capa.state != Capa.State.OPEN:
        return f"{capa.number} is {capa.get_state_display().lower()}."
    if not capa.cancel_reason.strip():
        return "Record the reason for cancelling first."
    return None


def capa_content(capa: Capa) -> dict[str, Any]:
    return {
        "record": "capa", "id": capa.pk, "number": capa.number, "title": capa.title,
        "description": capa.description, "source": capa.source, "source_deviation": capa.source_deviation_id,
        "source_reference": capa.source_reference, "effectiveness_criteria": capa.effectiveness_criteria,
        "effectiveness_due": capa.effectiveness_due.isoformat() if capa.effectiveness_due else None,
        "effectiveness": capa.effectiveness, "effectiveness_note": capa.effectiveness_note,
        "close_before_check": capa.close_before_check, "cancel_reason": capa.cancel_reason,
        "actions": [[a.kind, a.description, a.owner_name, a.due_date.isoformat(), a.evidence,
                     a.completed_at.isoformat() if a.completed_at else None] for a in capa.actions.order_by("id")],
    }


def _on_signed(capa: Capa, signature: Any) -> None:
    from capa.services import on_signed

    on_signed(capa, signature)


register(Signable(
    model=Capa, selector=selectors.capa_list, canonical=capa_content, on_signed=_on_signed,
    rules=(
        SignatureRule(step="close", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve and close the CAPA", signer_organization=lambda c: c.organization_id,
                      precondition=_closable),
        SignatureRule(step="cancel", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                      label="Approve the cancellation", signer_organization=lambda c: c.organization_id,
                      precondition=_cancellable),
    )), label="CAPA")
