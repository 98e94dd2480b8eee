"""The deviation PDF: the write-up, the product lines the reader may see, notices, timeline, signatures, audit
trail. Built from the same selectors as the page, so a sponsor's PDF holds only its own lines."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from deviations import selectors
from deviations.models import Deviation
from part11.pdf import pdf_response
from tenants.models import Membership


def deviation_context(membership: Membership, deviation: Deviation) -> dict[str, Any]:
    return {
        "deviation": deviation,
        "lines": list(selectors.lines_of(membership=membership, deviation=deviation)),
        "notices": list(selectors.notices_of(membership=membership, deviation=deviation)),
        "timeline": list(selectors.timeline_of(membership=membership, deviation=deviation)),
        "repeats": list(selectors.repeats_of(membership=membership, deviation=deviation)),
    }


def deviation_pdf_response(request: Any, membership: Membership, deviation: Deviation) -> HttpResponse:
    return pdf_response(membership=membership, record=deviation, request=request, template="deviations/pdf.html",
                        extra={**deviation_context(membership, deviation),
                               "record_label": f"{deviation.number} — {deviation.title}"})
