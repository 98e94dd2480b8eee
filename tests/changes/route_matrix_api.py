"""Route matrix for the change-control API (tests/changes/routes.py hands ``ROUTES`` to the meta-test).

Borealis (the CMO) owns the changes, raised by its QA reviewer ``borealis.author`` for Northwind's NWB-9 at Borealis
Montreal. Northwind reads them and writes only its own rows that point at them: its filing decisions, the agency's
approval of a prior-approval filing and its signed approval (partner actions). Helix, Acme and Helix's auditor see
nothing (404); a grant on Northwind ↔ Borealis does not reach change control (404 still).

Payloads that depend on the target as it stands (its version, its assessments) are functions of the cast.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.changes import route_targets as targets
from tests.changes.helpers import METHOD_CHANGE
from tests.factories import Cast
from tests.test_route_isolation import ANON, GRANTEE, PDF, SIGN, Case, Route, detail, listing, parties, reads, sees

# Borealis's people and Northwind read a change and its parts; everyone else 404 (the grant does not reach it).
READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
LIST_READERS = {"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
                "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401}
# Writes on Borealis's change: its QA approver; its org admin (no authoring role) and the sponsor (read-only) 403.
CMO_WRITES = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403,
              "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
# The sponsor's own decisions: Northwind's QA approver; its org admin cannot approve; Borealis may not decide for it.
SPONSOR_WRITES = {"northwind.qa": 200, "northwind.admin": 403, "borealis.qa": 403, "borealis.admin": 403,
                  "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}
# Everyone signed in: the questionnaire and one's own queue hold nothing of a partner's.
EVERY_MEMBER = {"borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200,
                "helix.viewer": 200, ANON: 401}


def _version(cast: Cast) -> int:
    return targets.latest(cast).version


def create_post(cast: Cast) -> dict[str, Any]:
    return {"title": "Route matrix: new sterile filter supplier", "description": "Qualify a second supplier.",
            "reason": "Single source risk.", "change_type": "materials", "site": cast.sites[targets.SITE].pk,
            "proposed_implementation_date": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
            "lines": [{"product": cast.products[targets.PRODUCT].pk}]}


def edit_patch(cast: Cast) -> dict[str, Any]:
    return {"title": "Route matrix: replace the potency assay (UHPLC)", "version": _version(cast)}


def lines_put(cast: Cast) -> dict[str, Any]:
    return {"lines": [{"product": cast.products[targets.PRODUCT].pk}], "version": _version(cast)}


def impact_post(cast: Cast) -> dict[str, Any]:
    return {"answers": METHOD_CHANGE, "risk_rating": "medium", "risk_rationale": "Route matrix: validated method.",
            "version": _version(cast)}


def decide_post(cast: Cast) -> dict[str, Any]:
    return {"assessment": targets.us_assessment(cast).pk, "category": "cbe30"}


def agency_post(cast: Cast) -> dict[str, Any]:
    return {"decision": targets.us_decision(cast).pk, "approved_on": timezone.localdate().isoformat(),
            "reference": "S-012 approval letter"}


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "procedure", "title": "Route matrix: updated SOP", "file": SimpleUploadedFile("sop.pdf", PDF)}


def document_url(cast: Cast, document: Any) -> str:
    return reverse("api:change-document-content", args=[document.change_id, document.pk])


EFFECTIVE = {"effective": True, "summary": "Route matrix: trend of 3 lots within limits."}
CANCEL = {"reason": "Route matrix: raised in error", **SIGN}
APPROVE = {"decision": "approve", "comment": "Route matrix: approved as proposed.", **SIGN}

ROUTES: list[Route] = [
    Route("api:change-list", listing("api:change-list"), targets.draft, [
        *sees(LIST_READERS),
        Case("borealis.qa", "post", 201, create_post),
        Case("borealis.admin", "post", 403, create_post),  # no authoring role
        Case("northwind.qa", "post", 400, create_post),  # Borealis Montreal is not Northwind's site
        Case("acme.qa", "post", 400, create_post),  # not its site, not a product it makes
        Case("helix.qa", "post", 400, create_post),
        Case("helix.viewer", "post", 403, create_post),
        Case("auditor", "post", 403, create_post),
        Case(GRANTEE, "post", 403, create_post),
        Case(ANON, "post", 401, create_post),
    ]),
    Route("api:change-detail", detail("api:change-detail"), targets.draft, [
        *reads(READERS), *parties(CMO_WRITES, "patch", edit_patch)]),
    Route("api:change-lines", detail("api:change-lines"), targets.draft, parties(CMO_WRITES, "put", lines_put)),
    Route("api:change-impact-assessment", detail("api:change-impact-assessment"), targets.draft,
          parties(CMO_WRITES, "post", impact_post)),
    Route("api:change-questionnaire", lambda cast, obj: reverse("api:change-questionnaire") + "?change_type=site",
          targets.draft, reads(EVERY_MEMBER)),
    Route("api:change-assessments", detail("api:change-assessments"), targets.assessed, reads(READERS)),
    Route("api:change-filing-decisions", detail("api:change-filing-decisions"), targets.assessed,
          parties({**SPONSOR_WRITES, "northwind.qa": 201}, "post", decide_post)),
    Route("api:change-agency-approvals", detail("api:change-agency-approvals"), targets.prior_approval,
          parties(SPONSOR_WRITES, "post", agency_post)),
    Route("api:change-submit", detail("api:change-submit"), targets.assessed, parties(CMO_WRITES, "post")),
    Route("api:change-notify", detail("api:change-notify"), targets.pending_notice,
          parties(CMO_WRITES, "post", {"message": "Route matrix: swap planned for the next shutdown."})),
    Route("api:change-withdraw", detail("api:change-withdraw"), targets.pending,
          parties(CMO_WRITES, "post", {"reason": "Route matrix: revise the validation plan."})),
    Route("api:change-sponsor-approval", detail("api:change-sponsor-approval"), targets.pending,
          parties(SPONSOR_WRITES, "post", APPROVE)),
    # Borealis's QA approves after Northwind (its org admin cannot approve: 403; Northwind cannot: read-only).
    Route("api:change-approve", detail("api:change-approve"), targets.sponsor_approved,
          parties(CMO_WRITES, "post", SIGN)),
    Route("api:change-implement", detail("api:change-implement"), targets.approved, parties(CMO_WRITES, "post")),
    Route("api:change-effectiveness", detail("api:change-effectiveness"), targets.implemented,
          parties(CMO_WRITES, "post", EFFECTIVE)),
    Route("api:change-close", detail("api:change-close"), targets.reviewed, parties(CMO_WRITES, "post", SIGN)),
    Route("api:change-cancel", detail("api:change-cancel"), targets.draft, parties(CMO_WRITES, "post", CANCEL)),
    Route("api:change-documents", detail("api:change-documents"), targets.approved, [
        *reads(READERS), *parties({**CMO_WRITES, "borealis.qa": 201}, "post", document_post)]),
    Route("api:change-document-content", document_url, targets.document, reads(READERS)),
    Route("api:change-dossier", detail("api:change-dossier"), targets.pending, reads(READERS)),
    Route("api:change-routes", detail("api:change-routes"), targets.pending, reads(READERS)),
    Route("api:change-approvals", detail("api:change-approvals"), targets.sponsor_approved, reads(READERS)),
    Route("api:change-history", detail("api:change-history"), targets.pending, reads(READERS)),
    Route("api:change-awaiting", listing("api:change-awaiting"), targets.pending, reads(EVERY_MEMBER)),
]
