"""Route matrix for the change-control pages (tests/changes/routes.py hands it to tests/test_route_isolation.py).

Borealis (the CMO) owns the changes to Northwind's NWB-9 (targets in ``route_targets``); Northwind reads them and
writes its own rows (filing decisions, the agency's approval, its signed decision) as partner actions; Helix, Acme
and Helix's auditor see nothing (404), with or without a grant on the partnership (change control is shared with
the affected sponsor only). Who gets 403 rather than 404 follows the scoping base: an owner write page looks the
change up first (a stranger gets 404, the sponsor or an org admin 403); a partner action page checks its capability
first (an org admin or an auditor gets 403 before any lookup), then that the row is the member's own (the CMO 403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from changes.models import ChangeRequest
from tests.changes.route_targets import (
    AUTHOR,
    PRODUCT,
    SITE,
    approved,
    assessed,
    document,
    draft,
    implemented,
    latest,
    pending,
    pending_notice,
    prior_approval,
    reviewed,
    sponsor_approved,
    us_assessment,
    us_decision,
)
from tests.factories import Cast
from tests.test_route_isolation import ANON, GRANTEE, PDF, SIGN, Route, detail, listing, parties, reads, sees

# Every member of the two parties reads the change; Helix, Acme and the auditor (even with a grant) get 404.
READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 302}
# Owner write pages (Borealis's change): its QA (approver and reviewer); its org admin and the sponsor 403.
FORMS = {"borealis.qa": 200, AUTHOR: 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403,
         "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 302}
WRITES = {**FORMS, "borealis.qa": 302, AUTHOR: 302}
# Signed steps of the owner (approve, close, cancel) need a QA approver: the QA reviewer who raised it gets 403.
SIGN_FORMS = {**FORMS, AUTHOR: 403}
SIGN_WRITES = {**SIGN_FORMS, "borealis.qa": 302}
# The sponsor's partner actions: capability first (org admins and auditors 403), then the row must be Northwind's.
PARTNER_FORMS = {"northwind.qa": 200, "borealis.qa": 403, "borealis.admin": 403, "northwind.admin": 403,
                 "helix.qa": 404, "acme.qa": 404, "auditor": 403, GRANTEE: 403, ANON: 302}
PARTNER_WRITES = {**PARTNER_FORMS, "northwind.qa": 302}


def _link(change: ChangeRequest) -> str:
    return f'href="{reverse("change-detail", args=[change.pk])}"'


def _future(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def create_post(cast: Cast) -> dict[str, Any]:
    return {"title": "Route matrix: new filter supplier", "change_type": "materials", "description": "Swap.",
            "reason": "Supplier exit.", "products": [cast.products[PRODUCT].pk], "site": cast.sites[SITE].pk,
            "proposed_implementation_date": _future(60), "permanent": "permanent"}


def edit_post(cast: Cast) -> dict[str, Any]:
    c = latest(cast)
    return {"title": "Route matrix: replace the potency assay", "change_type": c.change_type,
            "description": c.description, "reason": c.reason, "products": [cast.products[PRODUCT].pk],
            "site": cast.sites[SITE].pk, "proposed_implementation_date": _future(75), "permanent": "permanent",
            "version": c.version}


def assess_post(cast: Cast) -> dict[str, Any]:
    answers = {"affects_filed_information": "yes", "affects_cqa": "no", "validation_impact": "yes",
               "stability_impact": "no", "comparability_needed": "no", "sterility_assurance": "no",
               "specification_change": "method", "method_comparable": "yes"}
    return {**answers, "risk_rating": "medium", "risk_rationale": "Route matrix: validated method.",
            "version": latest(cast).version}


def withdraw_post(cast: Cast) -> dict[str, Any]:
    return {"reason": "Route matrix: Northwind asked for a comparability protocol.", "version": latest(cast).version}


def effectiveness_post(cast: Cast) -> dict[str, Any]:
    return {"effective": "yes", "summary": "Route matrix: 3 lots comparable.", "version": latest(cast).version}


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "procedure", "title": "Route matrix: SOP QC-114 rev 5",
            "file": SimpleUploadedFile("sop.pdf", PDF, content_type="application/pdf")}


def _filing_url(cast: Cast, change: ChangeRequest) -> str:
    return reverse("change-filing-decide", args=[change.pk, us_assessment(cast).pk])


def _agency_url(cast: Cast, change: ChangeRequest) -> str:
    return reverse("change-agency-approval", args=[change.pk, us_decision(cast).pk])


def _document_url(cast: Cast, doc: Any) -> str:
    return reverse("change-document", args=[doc.change_id, doc.pk])


ROUTES: list[Route] = [
    Route("changes", listing("changes"), pending, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}), marker=_link),
    # What awaits the sponsor's decision; the CMO and outsiders have nothing of this change there.
    Route("change-awaiting", listing("change-awaiting"), pending, sees({
        "northwind.qa": True, "northwind.admin": True, "borealis.qa": False, "borealis.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}), marker=_link),
    # Raising a change: any quality author, for products it makes (a CMO) or owns (a sponsor); refused on the
    # products and site fields for a member whose organization does not make NWB-9 at Borealis Montreal.
    Route("change-create", listing("change-create"), draft, [
        *reads({"borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "borealis.admin": 403,
                "helix.viewer": 403, "auditor": 403, GRANTEE: 403, ANON: 302}),
        *parties({"borealis.qa": 302, "northwind.qa": 400, "helix.qa": 400, "acme.qa": 400, "borealis.admin": 403,
                  "auditor": 403, ANON: 302}, "post", create_post)]),
    Route("change-detail", detail("change-detail"), pending, reads(READERS)),
    Route("change-edit", detail("change-edit"), draft, [*reads(FORMS), *parties(WRITES, "post", edit_post)]),
    Route("change-assess", detail("change-assess"), draft, [*reads(FORMS), *parties(WRITES, "post", assess_post)]),
    Route("change-submit", detail("change-submit"), assessed, parties(WRITES, "post")),
    Route("change-notify", detail("change-notify"), pending_notice, [
        *reads(FORMS), *parties(WRITES, "post", {"message": "Route matrix: same model, new serial number."})]),
    Route("change-filing-decide", _filing_url, pending, [
        *reads(PARTNER_FORMS), *parties(PARTNER_WRITES, "post", {"category": "cbe30"})]),
    Route("change-agency-approval", _agency_url, prior_approval, [
        *reads(PARTNER_FORMS),
        *parties(PARTNER_WRITES, "post", lambda cast: {"approved_on": timezone.localdate().isoformat(),
                                                       "reference": "S-014"})]),
    Route("change-sponsor-decision", detail("change-sponsor-decision"), pending, [
        *reads(PARTNER_FORMS), *parties(PARTNER_WRITES, "post", {"decision": "approve", **SIGN})]),
    Route("change-approve", detail("change-approve"), sponsor_approved, [
        *reads(SIGN_FORMS), *parties(SIGN_WRITES, "post", SIGN)]),
    Route("change-withdraw", detail("change-withdraw"), pending, [
        *reads(FORMS), *parties(WRITES, "post", withdraw_post)]),
    Route("change-implement", detail("change-implement"), approved, parties(WRITES, "post")),
    Route("change-effectiveness", detail("change-effectiveness"), implemented, [
        *reads(FORMS), *parties(WRITES, "post", effectiveness_post)]),
    Route("change-close", detail("change-close"), reviewed, [
        *reads(SIGN_FORMS), *parties(SIGN_WRITES, "post", SIGN)]),
    Route("change-cancel", detail("change-cancel"), draft, [
        *reads(SIGN_FORMS), *parties(SIGN_WRITES, "post", {"reason": "Route matrix: raised in error", **SIGN})]),
    Route("change-document-upload", detail("change-document-upload"), approved, [
        *reads(FORMS), *parties(WRITES, "post", document_post)]),
    Route("change-document", _document_url, document, reads({**READERS, "helix.viewer": 404})),
    Route("change-pdf", detail("change-pdf"), pending, reads({**READERS, "helix.viewer": 403})),
]
