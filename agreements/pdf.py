"""The agreement PDF: sections, RACI grid, terms and windows, consent register, signatures, audit trail."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from agreements import checks, selectors
from agreements.markdown import render
from agreements.models import QualityAgreement
from part11.pdf import pdf_response
from tenants.models import Membership


def agreement_context(agreement: QualityAgreement) -> dict[str, Any]:
    """What both the page and the PDF show (one source, so they cannot disagree)."""
    return {
        "agreement": agreement,
        "sections": [(s, render(s.body)) for s in agreement.sections.all()],
        "raci": list(agreement.raci.all()),
        "windows": list(agreement.windows.all()),
        "data_sharing": list(agreement.data_sharing.all()),
        "findings": checks.run_checks(agreement),
        "consents": list(selectors.consent_list_for(agreement.partnership_id)),
    }


def agreement_pdf_response(request: Any, membership: Membership, agreement: QualityAgreement) -> HttpResponse:
    return pdf_response(membership=membership, record=agreement, request=request, template="agreements/pdf.html",
                        extra={**agreement_context(agreement), "record_label": f"{agreement} — "
                               f"{agreement.sponsor.name} ↔ {agreement.cmo.name}"})
