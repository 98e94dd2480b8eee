"""The change dossier PDF: the change and its impact assessment, the filing assessments with the rule that fired
and the product owner's decisions, the approval routes with their notice clocks, the signed approvals (this round
and earlier ones), implementation, effectiveness review, documents with their SHA-256, every signature manifested,
and the audit trail of the change and of its rows.

Built from the same selectors as the change page, so a sponsor's copy shows only its own product lines, routes,
filing decisions and approvals, and never names another sponsor or its products; row-level security underneath
hides the rest even from a selector that forgot a filter. Every rendering is recorded (``RecordExport``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from changes import questionnaire, selectors
from changes.models import ChangeRequest
from changes.services import IMPLEMENTED_STATES, implementation_blockers
from part11.models import Signature
from part11.pdf import record_pdf
from part11.selectors import event_list
from part11.signatures import signatures_of
from tenants.models import Membership

State = ChangeRequest.State


@dataclass(frozen=True)
class Answer:
    """One question of the impact questionnaire as printed: its label, the answer in words, its help text."""

    label: str
    answer: str
    help: str


def answers_of(change: ChangeRequest) -> list[Answer]:
    """The change type's questions in questionnaire order, each with its recorded answer (unanswered: a dash)."""
    out = []
    for question in questionnaire.questions_for(change.change_type):
        value = change.answers.get(question.key)
        if value is None:
            shown = "—"
        elif question.kind == "bool":
            shown = "Yes" if value else "No"
        else:
            shown = dict(question.choices).get(value, str(value))
        out.append(Answer(question.label, shown, question.help))
    return out


def _signed(records: list[Any]) -> dict[int, list[Signature]]:
    """The signatures on ``records`` (all of one model) by record id, in one query."""
    if not records:
        return {}
    table = records[0]._meta.db_table
    out: dict[int, list[Signature]] = {}
    for signature in Signature.objects.filter(record_table=table, record_id__in=[r.pk for r in records]).order_by(
            "signed_at", "id"):
        out.setdefault(signature.record_id, []).append(signature)
    return out


def change_context(membership: Membership, change: ChangeRequest) -> dict[str, Any]:
    """Everything the dossier prints, read as ``membership`` may see it."""
    lines = list(selectors.lines_of(membership=membership, change=change))
    routes = list(selectors.routes_of(membership=membership, change=change))
    history = selectors.history_of(membership=membership, change=change)
    assessments = list(selectors.assessments_of(membership=membership, change=change, current=False))
    approvals = list(selectors.approvals_of(membership=membership, change=change))
    earlier = [approval for _, approval in history if approval is not None]
    review = selectors.review_list(membership=membership).filter(change=change).first()
    documents = list(selectors.documents_of(membership=membership, change=change))
    approval_signatures = _signed(approvals + earlier)
    review_signatures = list(signatures_of(review)) if review is not None else []
    change_signatures = list(signatures_of(change))
    blockers = (implementation_blockers(change, membership)
                if change.state in (State.PENDING_APPROVAL, State.APPROVED) else [])
    rows: dict[str, list[int]] = {
        "changes_changerequest": [change.pk],
        "changes_affectedproduct": [line.pk for line in lines],
        "changes_sponsorroute": [route.pk for route in routes] + [route.pk for route, _ in history],
        "changes_filingassessment": [a.pk for a in assessments],
        "changes_filingdecision": [a.decision.pk for a in assessments if getattr(a, "decision", None) is not None],
        "changes_approval": [a.pk for a in approvals + earlier],
        "changes_effectivenessreview": [review.pk] if review is not None else [],
        "changes_changedocument": [d.pk for d in documents],
        "tenants_storedfile": [d.file_id for d in documents if d.file_id is not None],
        "clocks_deadline": [r.deadline_id for r in routes if r.deadline_id]
                           + ([change.effectiveness_deadline_id] if change.effectiveness_deadline_id else []),
    }
    signatures = change_signatures + [s for a in approvals + earlier for s in approval_signatures.get(a.pk, [])] \
        + review_signatures
    rows["part11_signature"] = [s.pk for s in signatures]
    return {
        "change": change,
        "lines": lines,
        "answers": answers_of(change),
        "assessments": [a for a in assessments if not a.superseded],
        "superseded": [a for a in assessments if a.superseded],
        "routes": routes,
        "approvals": [(a, approval_signatures.get(a.pk, [])) for a in approvals],
        "history": [(route, approval, approval_signatures.get(approval.pk, []) if approval else [])
                    for route, approval in history],
        "change_signatures": change_signatures,
        "blockers": blockers,
        "implemented": change.state in IMPLEMENTED_STATES,
        "review": review,
        "review_signatures": review_signatures,
        "documents": documents,
        # The record PDF's "Signatures" section lists every signature of the change and of its rows, each with the
        # SHA-256 of what it signed, and its audit trail covers the rows too (not only the change itself).
        "signatures": signatures,
        "events": list(_events(membership, rows)),
    }


def _events(membership: Membership, rows: dict[str, list[int]]) -> Any:
    match = Q(pk__in=[])
    for table, ids in rows.items():
        if ids:
            match |= Q(record_table=table, record_id__in=ids)
    return event_list(membership=membership).filter(match).order_by("occurred_at", "id")


def render_dossier(*, membership: Membership, change: ChangeRequest) -> bytes:
    """The dossier as ``membership`` may see it; ``change`` comes from ``selectors.change_list`` (a foreign change
    never reaches here). The signature links resolve against ``QMS_BASE_URL``."""
    pdf, _ = record_pdf(membership=membership, record=change, base_url=f"{settings.QMS_BASE_URL}/",
                        template="changes/pdf.html",
                        extra={**change_context(membership, change),
                               "record_label": f"Change dossier: {change.number} — {change.title}"})
    return pdf
