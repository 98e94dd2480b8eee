"""Route matrix for the batch pages (tests/test_route_isolation.py appends it to its ROUTES).

Borealis (the CMO) owns the batches of Northwind's NWB-9; Northwind reads them and writes its own rows (queries,
its signed disposition) as partner actions; Helix's auditor reads them through a live grant on the partnership
(GRANTEE) and writes nothing; Helix and Acme see nothing (404). Who gets 403 rather than 404 follows the scoping
base: an owner write page looks the batch up first (a stranger gets 404, a partner or an org admin 403), a partner
action page checks its capability first (an auditor or an org admin gets 403 before any lookup).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch
from tests.batches.routes import PRODUCT, at_sponsor, bare, cmo_review, document, import_rows, in_production, query
from tests.batches.routes import released as released_batch
from tests.factories import Cast
from tests.test_route_isolation import (
    ANON,
    GRANTEE,
    PDF,
    SIGN,
    Case,
    Route,
    detail,
    listing,
    parties,
    reads,
    sees,
)

OPERATOR = "borealis.operator"

# Every member who may see the batch reads its pages; Helix, Acme and the auditor without a grant get 404.
READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200, "helix.qa": 404,
           "acme.qa": 404, "auditor": 404, GRANTEE: 200, ANON: 302}
# Owner write pages (the CMO's record): its QA; its org admin, the sponsor and the grant holder 403 (they see the
# batch but may not write it); others 404 (the lookup comes first).
FORMS = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "northwind.admin": 403, "helix.qa": 404,
         "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 302}
WRITES = {**FORMS, "borealis.qa": 302}
# Production records batch data (register, edit, QC results, submit, delivery); QA authors the rest.
OPERATOR_FORMS = {**FORMS, OPERATOR: 200}
OPERATOR_WRITES = {**WRITES, OPERATOR: 302}
QA_ONLY_FORMS = {**FORMS, OPERATOR: 403}
QA_ONLY_WRITES = {**WRITES, OPERATOR: 403}
# Partner actions (writes = False): the capability is checked before the lookup, so an org admin, the operator,
# the auditor (with or without a grant) get 403; Helix and Acme 404.
PARTNER_FORMS = {"borealis.admin": 403, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404, "auditor": 403,
                 GRANTEE: 403, ANON: 302}
# Registering a batch: a CMO's production or QA; a sponsor and every role without record operations 403.
REGISTER = {"borealis.qa": 200, OPERATOR: 200, "acme.qa": 200, "borealis.admin": 403, "northwind.qa": 403,
            "helix.qa": 403, "auditor": 403, GRANTEE: 403, ANON: 302}
REGISTER_POST = {**REGISTER, "borealis.qa": 302, OPERATOR: 302,
                 "acme.qa": 400}  # Acme does not make NWB-9: refused on the product field


def current(cast: Cast) -> Batch:
    """The target the case was built on (the newest NWB-9 batch)."""
    return Batch.objects.filter(product=cast.products[PRODUCT]).latest("id")


def create_post(cast: Cast) -> dict[str, Any]:
    today = timezone.localdate()
    return {"product": cast.products[PRODUCT].pk, "site": cast.sites["Borealis Montreal"].pk,
            "lot_number": f"NWB9-P{Batch.objects.count() + 1:03d}",
            "manufactured_on": (today - dt.timedelta(days=6)).isoformat(), "quantity": "1200", "unit": "vials"}


def import_post(cast: Cast) -> dict[str, Any]:
    rows = import_rows(cast)
    header = list(rows[0])
    body = "\n".join([",".join(header), *(",".join(row[c] for c in header) for row in rows)]) + "\n"
    return {"file": SimpleUploadedFile("batches.csv", body.encode(), content_type="text/csv")}


def edit_post(cast: Cast) -> dict[str, Any]:
    b = current(cast)
    return {"lot_number": b.lot_number, "site": b.site_id, "manufactured_on": b.manufactured_on.isoformat(),
            "quantity": "1250", "unit": b.unit, "version": b.version}


def results_post(cast: Cast) -> dict[str, Any]:
    return {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "version": current(cast).version,
            "form-0-test": "Bioburden", "form-0-specification": "≤ 10 CFU/100 mL", "form-0-result": "< 1 CFU/100 mL",
            "form-0-passed": "on"}


def changes_post(cast: Cast) -> dict[str, Any]:
    return {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "version": current(cast).version,
            "form-0-reference": "CC-RM-1", "form-0-title": "Route matrix: new filter supplier"}


def document_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "other", "title": "Route matrix: environmental monitoring",
            "file": SimpleUploadedFile("em.pdf", PDF, content_type="application/pdf")}


def delivery_post(cast: Cast) -> dict[str, Any]:
    return {"actual_delivery_date": timezone.localdate().isoformat(), "version": current(cast).version}


def _batch_link(batch: Batch) -> str:
    return f'href="{reverse("batch-detail", args=[batch.pk])}"'


RELEASE = {"decision": "release", **SIGN}
QUERY = {"subject": "Route matrix: fill weights", "body": "Why do fill weights drift upward after hour 6?"}

ROUTES: list[Route] = [
    Route("batches", listing("batches"), in_production, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True, "helix.qa": False,
        "acme.qa": False, "auditor": False, GRANTEE: True, ANON: 302}), marker=_batch_link),
    # The sponsor's queue holds what awaits its disposition; the CMO's holds what is in its own QA review, so a
    # batch at the sponsor is in Northwind's queue only (and a grant holder's queue is its own sponsor's).
    Route("batch-queue", listing("batch-queue"), at_sponsor, sees({
        "northwind.qa": True, "northwind.admin": True, "borealis.qa": False, "borealis.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}), marker=_batch_link),
    Route("batch-create", listing("batch-create"), bare, [
        *reads(REGISTER), *parties(REGISTER_POST, "post", create_post)]),
    Route("batch-import", listing("batch-import"), bare, [
        *reads(REGISTER), *parties(REGISTER_POST, "post", import_post)]),
    Route("batch-export", listing("batch-export"), in_production, reads({
        "borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200,
        "auditor": 200, GRANTEE: 200, "helix.viewer": 403, OPERATOR: 403, ANON: 302})),
    Route("batch-detail", detail("batch-detail"), at_sponsor, reads({**READERS, OPERATOR: 200})),
    Route("batch-edit", detail("batch-edit"), in_production, [
        *reads(OPERATOR_FORMS), *parties(OPERATOR_WRITES, "post", edit_post)]),
    Route("batch-results", detail("batch-results"), in_production, [
        *reads(OPERATOR_FORMS), *parties(OPERATOR_WRITES, "post", results_post)]),
    Route("batch-changes", detail("batch-changes"), in_production, [
        *reads(QA_ONLY_FORMS), *parties(QA_ONLY_WRITES, "post", changes_post)]),
    Route("batch-document-upload", detail("batch-document-upload"), in_production, [
        *reads(QA_ONLY_FORMS), *parties(QA_ONLY_WRITES, "post", document_post)]),
    Route("batch-document", detail("batch-document"), document, [
        *reads({**READERS, OPERATOR: 200}),
        Case("northwind.qa", "get", 200, {"download": "1"}), Case("helix.qa", "get", 404, {"download": "1"}),
        Case("acme.qa", "get", 404, {"download": "1"}), Case("auditor", "get", 404, {"download": "1"}),
        Case(GRANTEE, "get", 200, {"download": "1"})]),
    Route("batch-submit", detail("batch-submit"), in_production, parties(OPERATOR_WRITES, "post")),
    Route("batch-return", detail("batch-return"), cmo_review, [
        *reads(QA_ONLY_FORMS),
        *parties(QA_ONLY_WRITES, "post", {"reason": "Route matrix: the fill record lacks a signature"})]),
    # The sponsor's turn: Northwind signs; Borealis's QA may open the form (it says why it is not its turn) and is
    # refused on sending it (400, its state); roles that cannot sign get 403 before the lookup.
    Route("batch-dispose", detail("batch-dispose"), at_sponsor, [
        *reads({**PARTNER_FORMS, "northwind.qa": 200, "borealis.qa": 200, OPERATOR: 403}),
        *parties({**PARTNER_FORMS, "northwind.qa": 302, "borealis.qa": 400, OPERATOR: 403}, "post", RELEASE)]),
    Route("batch-delivery", detail("batch-delivery"), released_batch, [
        *reads(OPERATOR_FORMS), *parties(OPERATOR_WRITES, "post", delivery_post)]),
    # Raising a query is the sponsor's partner action; the CMO answers but does not ask (403).
    Route("batch-query-create", detail("batch-query-create"), at_sponsor, [
        *reads({**PARTNER_FORMS, "northwind.qa": 200, "borealis.qa": 403}),
        *parties({**PARTNER_FORMS, "northwind.qa": 302, "borealis.qa": 403}, "post", QUERY)]),
    Route("batch-query-reply", detail("batch-query-reply"), query, [
        *reads({**PARTNER_FORMS, "northwind.qa": 200, "borealis.qa": 200}),
        *parties({**PARTNER_FORMS, "northwind.qa": 302, "borealis.qa": 302}, "post",
                 {"body": "Route matrix: the check-weigher was recalibrated at hour 6."})]),
    # The query is the sponsor's own row: an ordinary owner write (the CMO, which sees it, gets 403).
    Route("batch-query-close", detail("batch-query-close"), query, [
        *reads({"northwind.qa": 200, "northwind.admin": 403, "borealis.qa": 403, "borealis.admin": 403,
                "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 302}),
        *parties({"northwind.qa": 302, "northwind.admin": 403, "borealis.qa": 403, "helix.qa": 404, "acme.qa": 404,
                  "auditor": 404, GRANTEE: 403, ANON: 302}, "post", {"note": "Route matrix: answered"})]),
    Route("batch-pdf", detail("batch-pdf"), at_sponsor, reads({
        **READERS, "helix.viewer": 403, OPERATOR: 403})),
]
