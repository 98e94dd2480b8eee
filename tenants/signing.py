"""The partnership as a signable record: the demo of Part 11 signatures until the domain apps arrive.

Rules, in one place: a QA reviewer or approver of either party signs "reviewed"; a QA approver then signs
"approved", and may not be the person who reviewed (two-person rule).
"""

from __future__ import annotations

from typing import Any

from part11.signatures import Signable, SignatureRule, register
from tenants import selectors
from tenants.models import Partnership
from tenants.permissions import Capability

PARTNERSHIP_RULES = (
    SignatureRule(step="review", meaning="reviewed", capability=Capability.REVIEW_QUALITY_RECORDS,
                  label="Review the partnership scope"),
    SignatureRule(step="approve", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                  label="Approve the partnership scope", requires=("reviewed",), different_from=("reviewed",),
                  requires_audit_review=True),
)


def partnership_content(partnership: Partnership) -> dict[str, Any]:
    return {
        "record": "partnership", "id": partnership.pk,
        "sponsor": partnership.sponsor.slug, "cmo": partnership.cmo.slug,
        "stage": partnership.stage, "tier": partnership.tier,
        "start_date": partnership.start_date.isoformat(),
        "end_date": partnership.end_date.isoformat() if partnership.end_date else None,
        "sites": sorted(site.name for site in partnership.sites.all()),
        "products": sorted(product.code for product in partnership.products.all()),
    }


register(Signable(model=Partnership, selector=selectors.partnership_list, canonical=partnership_content,
                  rules=PARTNERSHIP_RULES))
