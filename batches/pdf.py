"""The batch dossier PDF: the batch data, its review-by-exception summary, QC results, documents with their
SHA-256, the dispositions with their signatures manifested, queries and the audit trail. Built from the same
selectors as the review page, so a sponsor's dossier shows only what the sponsor may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from batches import selectors
from batches.models import Batch
from part11.pdf import pdf_response
from part11.signatures import signatures_of
from tenants.models import Membership


def batch_context(membership: Membership, batch: Batch) -> dict[str, Any]:
    dispositions = list(selectors.dispositions_of(membership=membership, batch=batch))
    chain = [(d, list(signatures_of(d))) for d in dispositions]
    return {
        "batch": batch,
        "exceptions": selectors.exceptions_of(membership=membership, batch=batch),
        "documents": list(selectors.documents_of(membership=membership, batch=batch)),
        "results": list(selectors.qc_results_of(membership=membership, batch=batch)),
        "changes": list(selectors.changes_of(membership=membership, batch=batch)),
        "deviations": list(selectors.linked_deviations(membership=membership, batch=batch)),
        "dispositions": dispositions,
        # Each step with its signature(s): the dossier prints the manifestation next to the decision.
        "chain": chain,
        "queries": [(q, list(selectors.messages_of(membership=membership, query=q)))
                    for q in selectors.queries_of(membership=membership, batch=batch)],
        # The batch itself is never signed (its dispositions are): the record PDF's "Signatures" section lists the
        # dispositions' signatures with the SHA-256 of what each signed, instead of "Not signed".
        "signatures": [signature for _, signatures in chain for signature in signatures],
    }


def batch_pdf_response(request: Any, membership: Membership, batch: Batch) -> HttpResponse:
    """The batch is the record (its trail is appended); the signatures are on its dispositions, which the
    dossier template prints with their manifestations."""
    return pdf_response(membership=membership, record=batch, request=request, template="batches/pdf.html",
                        extra={**batch_context(membership, batch), "record_label": f"Batch dossier: {batch}"})
