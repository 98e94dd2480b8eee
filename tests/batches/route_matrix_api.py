"""Route matrix for the batch API (tests/test_route_isolation.py appends ``ROUTES``).

Borealis (the CMO) owns the batches of Northwind's NWB-9 at Borealis Montreal and their record; Northwind reads
them and writes only its own rows that point at them: its disposition (a partner action on the batch) and its
queries, in whose thread Borealis answers (a partner action on the query). Helix, Acme and Helix's auditor see
nothing (404, or absent from lists); with a live grant on Northwind ↔ Borealis the auditor reads batches,
documents, queries and dispositions, and writes nothing (403).

Payloads that depend on the target as it stands (its version, its id) are functions of the cast, built after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from batches.models import Batch
from tests.batches import routes
from tests.factories import Cast
from tests.test_route_isolation import ANON, GRANTEE, PDF, SIGN, Case, Route, detail, listing, parties, reads, sees

# Borealis's own people and Northwind read a batch and its parts; so does the grantee. Others: 404.
READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 200, ANON: 401}
LIST_READERS = {"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
                "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: True, ANON: 401}
# Writes on Borealis's batch record: its QA approver; its org admin (no operations or authoring role), the sponsor
# (read-only) and the grantee (an auditor) 403; those who cannot see it 404.
CMO_WRITES = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403,
              "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 401}


def current(cast: Cast) -> Batch:
    """The target batch as it stands (the latest Borealis registered)."""
    return Batch.objects.filter(organization=cast.orgs[routes.CMO]).latest("created_at", "id")


def _today() -> str:
    return timezone.localdate().isoformat()


def create_post(cast: Cast) -> dict[str, Any]:
    return {"product": cast.products[routes.PRODUCT].pk, "site": cast.sites["Borealis Montreal"].pk,
            "lot_number": "NWB9-API-1", "manufactured_on": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
            "quantity": "1200", "unit": "vials"}


def edit_patch(cast: Cast) -> dict[str, Any]:
    return {"unit": "vials (10 mL)", "version": current(cast).version}


def delivery_post(cast: Cast) -> dict[str, Any]:
    return {"actual_delivery_date": _today(), "version": current(cast).version}


def results_put(cast: Cast) -> dict[str, Any]:
    return {"results": [{"test": "Bioburden", "specification": "≤ 10 CFU/100 mL", "result": "0 CFU/100 mL"},
                        {"test": "Endotoxin", "specification": "≤ 0.5 EU/mL", "result": "< 0.05 EU/mL",
                         "passed": True, "oos": False}], "version": current(cast).version}


def changes_put(cast: Cast) -> dict[str, Any]:
    return {"changes": [{"reference": "CC-2026-014", "title": "New filter supplier"}],
            "version": current(cast).version}


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "coa", "title": "Route matrix CoA", "file": SimpleUploadedFile("coa-v2.pdf", PDF)}


def import_post(cast: Cast) -> dict[str, Any]:
    return {"rows": routes.import_rows(cast)}


def query_post(cast: Cast) -> dict[str, Any]:
    return {"batch": current(cast).pk, "subject": "Visual inspection rejects",
            "body": "Route matrix: why were 2.1 % of vials rejected at visual inspection?"}


REPLY = {"body": "Route matrix: the trend is within the validated range; see the attached chart."}
DISPOSE = {"decision": "release", **SIGN}

ROUTES: list[Route] = [
    Route("api:batch-list", listing("api:batch-list"), routes.bare, [
        *sees(LIST_READERS),
        Case("borealis.qa", "post", 201, create_post),
        Case("borealis.admin", "post", 403, create_post),  # no operations role
        Case("northwind.qa", "post", 400, create_post),  # a sponsor has no site: the CMO registers batches
        Case("acme.qa", "post", 400, create_post),  # not its product, not its site
        Case("helix.qa", "post", 400, create_post),
        Case("helix.viewer", "post", 403, create_post),
        Case("auditor", "post", 403, create_post),
        Case(GRANTEE, "post", 403, create_post),
        Case(ANON, "post", 401, create_post),
    ]),
    Route("api:batch-detail", detail("api:batch-detail"), routes.bare, [
        *reads(READERS), *parties(CMO_WRITES, "patch", edit_patch)]),
    Route("api:batch-submit", detail("api:batch-submit"), routes.in_production, parties(CMO_WRITES, "post")),
    Route("api:batch-return", detail("api:batch-return"), routes.cmo_review,
          parties(CMO_WRITES, "post", {"reason": "Route matrix: page 14 of the record is unsigned"})),
    # The sponsor's partner action: Northwind's QA signs its release of the batch Borealis released; Borealis's
    # turn has passed (400 from the service, not 403), the org admins cannot sign, the grantee cannot write.
    Route("api:batch-dispose", detail("api:batch-dispose"), routes.at_sponsor, parties({
        "northwind.qa": 200, "northwind.admin": 403, "borealis.qa": 400, "borealis.admin": 403, "helix.qa": 404,
        "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 401}, "post", DISPOSE)),
    Route("api:batch-delivery", detail("api:batch-delivery"), routes.released,
          parties(CMO_WRITES, "post", delivery_post)),
    Route("api:batch-results", detail("api:batch-results"), routes.in_production,
          parties(CMO_WRITES, "put", results_put)),
    Route("api:batch-changes", detail("api:batch-changes"), routes.in_production,
          parties(CMO_WRITES, "put", changes_put)),
    Route("api:batch-documents", detail("api:batch-documents"), routes.in_production, [
        *reads(READERS), *parties({**CMO_WRITES, "borealis.qa": 201}, "post", document_post)]),
    Route("api:batch-exceptions", detail("api:batch-exceptions"), routes.bare, reads(READERS)),
    Route("api:batch-pdf", detail("api:batch-pdf"), routes.at_sponsor, reads(READERS)),
    Route("api:batch-export", listing("api:batch-export"), routes.bare, reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200, GRANTEE: 200,
        "helix.viewer": 403, ANON: 401})),
    Route("api:batch-import", listing("api:batch-import"), routes.bare, [
        Case("borealis.qa", "post", 201, import_post),
        Case("borealis.admin", "post", 403, import_post),
        Case("northwind.qa", "post", 403, import_post),  # a sponsor does not register batches
        Case("acme.qa", "post", 400, import_post),  # NWB-9 and Borealis Montreal are not Acme's
        Case("helix.qa", "post", 403, import_post),
        Case("helix.viewer", "post", 403, import_post),
        Case("auditor", "post", 403, import_post),
        Case(GRANTEE, "post", 403, import_post),
        Case(ANON, "post", 401, import_post),
    ]),
    # Awaiting Northwind: in Northwind's queue only (Borealis's queue holds its own QA review).
    Route("api:batch-queue", listing("api:batch-queue"), routes.at_sponsor, sees({
        "northwind.qa": True, "northwind.admin": True, "borealis.qa": False, "borealis.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:batch-document-list", listing("api:batch-document-list"), routes.document, sees(LIST_READERS)),
    Route("api:batch-document-detail", detail("api:batch-document-detail"), routes.document, reads(READERS)),
    Route("api:batch-document-content", detail("api:batch-document-content"), routes.document, reads(READERS)),
    Route("api:batch-query-list", listing("api:batch-query-list"), routes.query, [
        *sees(LIST_READERS),
        Case("northwind.qa", "post", 201, query_post),
        Case("northwind.admin", "post", 403, query_post),  # no authoring role
        Case("borealis.qa", "post", 403, query_post),  # the CMO answers queries, the sponsor raises them
        Case("helix.qa", "post", 400, query_post),  # a batch it cannot see
        Case("acme.qa", "post", 400, query_post),
        Case("auditor", "post", 403, query_post),
        Case(GRANTEE, "post", 403, query_post),
        Case(ANON, "post", 401, query_post),
    ]),
    Route("api:batch-query-detail", detail("api:batch-query-detail"), routes.query, reads(READERS)),
    # Either party writes in the thread (Borealis's answer is a partner action on Northwind's query).
    Route("api:batch-query-reply", detail("api:batch-query-reply"), routes.query, parties({
        "northwind.qa": 201, "borealis.qa": 201, "northwind.admin": 403, "borealis.admin": 403, "helix.qa": 404,
        "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 401}, "post", REPLY)),
    # Only the sponsor that raised the query closes it.
    Route("api:batch-query-close", detail("api:batch-query-close"), routes.query, parties({
        "northwind.qa": 200, "borealis.qa": 403, "northwind.admin": 403, "borealis.admin": 403, "helix.qa": 404,
        "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 401}, "post", {"note": "Route matrix: answered"})),
    Route("api:batch-disposition-list", listing("api:batch-disposition-list"), routes.disposition,
          sees(LIST_READERS)),
    Route("api:batch-disposition-detail", detail("api:batch-disposition-detail"), routes.disposition,
          reads(READERS)),
]
