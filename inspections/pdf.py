"""The 483 response dossier PDF: the inspection and its 483 with both clocks, the observations the reader may see
with their category, accountability and drafted response, commitments and their closure, linked CAPAs, the
reader's own impact rows and comment threads, the periodic updates, the review and approval signatures
manifested, and the audit trail of the 483 and of the rows printed.

Built from the same selectors as the API and the pages, so a sponsor's copy holds only the observations that
concern it (site-wide ones, and those of its own products), its own scope lines, notices and impact rows, and
never names another sponsor or its products; the audit trail is narrowed to the rows printed (row-level security
underneath hides the rest even from a selector that forgot a filter). Every rendering is recorded
(``RecordExport``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q

from inspections import selectors
from inspections.models import Form483
from part11.pdf import record_pdf
from part11.selectors import event_list
from part11.signatures import signatures_of
from tenants.models import Membership


def dossier_context(membership: Membership, form483: Form483) -> dict[str, Any]:
    """Everything the dossier prints, read as ``membership`` may see it."""
    inspection = selectors.inspection_list(membership=membership).get(pk=form483.inspection_id)
    observations = list(selectors.observations_of(membership=membership, form483=form483))
    notices = list(selectors.notices_of(membership=membership, inspection=inspection))
    updates = list(selectors.updates_of(membership=membership, form483=form483))
    documents = list(selectors.documents_of(membership=membership, inspection=inspection))
    signatures = list(signatures_of(form483))
    closures = [o.closure for o in observations if getattr(o, "closure", None) is not None]
    deadlines = [d for d in (form483.response_deadline_id, inspection.warning_letter_deadline_id) if d]
    scope = list(getattr(inspection, "visible_scope", []))  # the member's own lines (inspection_list prefetch)
    rows: dict[str, list[int]] = {
        "inspections_form483": [form483.pk],
        "inspections_inspection": [inspection.pk],
        "inspections_scope": [line.pk for line in scope],
        "inspections_observation": [o.pk for o in observations],
        "inspections_affectedproduct": [a.pk for o in observations for a in getattr(o, "visible_affected", [])],
        "inspections_impactassessment": [i.pk for o in observations for i in getattr(o, "visible_impacts", [])],
        "inspections_capalink": [c.pk for o in observations for c in o.capa_links.all()],
        "inspections_responsecomment": [c.pk for o in observations for c in getattr(o, "visible_comments", [])],
        "inspections_commitmentclosure": [c.pk for c in closures],
        "inspections_updatecommitment": [u.pk for u in updates],
        "inspections_notice": [n.pk for n in notices],
        "inspections_acknowledgement": [n.acknowledgement.pk for n in notices
                                        if getattr(n, "acknowledgement", None) is not None],
        "inspections_document": [d.pk for d in documents],
        "clocks_deadline": deadlines + [n.deadline_id for n in notices if n.deadline_id]
                           + [u.deadline_id for u in updates if u.deadline_id],
        "part11_signature": [s.pk for s in signatures],
    }
    return {
        "form483": form483,
        "inspection": inspection,
        "scope": scope,
        "observations": observations,
        "notices": notices,
        "updates": updates,
        "documents": documents,
        # The record PDF's "Signatures" section lists the response's review and approval signatures with the
        # SHA-256 of what each signed (the observations as hashes: nothing a sponsor may not read).
        "signatures": signatures,
        "events": list(_events(membership, rows)),
    }


def _events(membership: Membership, rows: dict[str, list[int]]) -> Any:
    match = Q(pk__in=[])
    for table, ids in rows.items():
        if ids:
            match |= Q(record_table=table, record_id__in=ids)
    return event_list(membership=membership).filter(match).order_by("occurred_at", "id")


def render_dossier(*, membership: Membership, form483: Form483) -> bytes:
    """The dossier as ``membership`` may see it; ``form483`` comes from ``selectors.form483_list`` (a foreign 483
    never reaches here). The signature links resolve against ``QMS_BASE_URL``."""
    pdf, _ = record_pdf(membership=membership, record=form483, base_url=f"{settings.QMS_BASE_URL}/",
                        template="inspections/pdf.html",
                        extra={**dossier_context(membership, form483),
                               "record_label": f"483 response dossier: {form483.inspection.number} at "
                                               f"{form483.inspection.site.name}"})
    return pdf
