"""Batches for the tests: built through the services, as the member named would in a request.

The default cast: Acme makes HLX-101 for Helix at Acme Boston (Helix ↔ Acme), and NWB-7 for Northwind at Acme
Cork. ``acme.operator`` registers and submits (production), ``acme.qa`` uploads and decides (quality unit).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone

from batches import services
from batches.models import Batch, Document, Query
from tests.agreements.helpers import acting
from tests.factories import PASSWORD, Cast

SITES = {"HLX-101": "Acme Boston", "NWB-7": "Acme Cork", "NWB-9": "Borealis Montreal"}
CMOS = {"HLX-101": "acme", "NWB-7": "acme", "NWB-9": "borealis"}


@cache
def pdf_bytes(title: str = "Executed batch record") -> bytes:
    """A real (small) PDF, rendered once per title by WeasyPrint, as the seed's documents are."""
    from weasyprint import HTML

    return HTML(string=f"<h1>{title}</h1><p>Test document.</p>").write_pdf()


def pdf_upload(name: str = "ebr.pdf", title: str = "Executed batch record") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(title), content_type="application/pdf")


def signing_request() -> Any:
    return RequestFactory().post("/batches/sign/", REMOTE_ADDR="203.0.113.7")


def register(cast: Cast, *, product: str = "HLX-101", lot: str = "L001", by: str | None = None,
             site: str | None = None, manufactured_on: dt.date | None = None) -> Batch:
    if by is None:
        operator = f"{CMOS[product]}.operator"
        by = operator if operator in cast.memberships else f"{CMOS[product]}.qa"
    with acting(cast, by):
        batch = services.batch_create(
            membership=cast.memberships[by], product=cast.products[product], site=cast.sites[site or SITES[product]],
            lot_number=lot, manufactured_on=manufactured_on or timezone.localdate() - dt.timedelta(days=20),
            completed_on=timezone.localdate() - dt.timedelta(days=18), quantity=Decimal("250000"), unit="tablets",
            planned_delivery_date=timezone.localdate() + dt.timedelta(days=10))
    return Batch.objects.get(pk=batch.pk)


def upload(cast: Cast, batch: Batch, kind: str = Document.Kind.EXECUTED_BATCH_RECORD, by: str = "acme.qa",
           name: str | None = None) -> Document:
    with acting(cast, by):
        return services.document_add(membership=cast.memberships[by], batch=batch, kind=kind,
                                     upload=pdf_upload(name or f"{kind}-{batch.lot_number}.pdf",
                                                       f"{Document.Kind(kind).label} {batch.lot_number} {name or ''}"))


def results(cast: Cast, batch: Batch, *lines: services.QcLine, by: str = "acme.qa") -> Batch:
    lines = lines or (services.QcLine("Assay (HPLC)", "95.0–105.0 %", "99.4 %"),
                      services.QcLine("Dissolution (30 min)", "Q ≥ 80 %", "92 %"))
    with acting(cast, by):
        services.qc_results_set(membership=cast.memberships[by], batch=batch, results=lines)
    return Batch.objects.get(pk=batch.pk)


def complete(cast: Cast, batch: Batch, by: str = "acme.qa") -> Batch:
    """The record complete: executed batch record, certificate of analysis, QC results."""
    upload(cast, batch, Document.Kind.EXECUTED_BATCH_RECORD, by=by)
    upload(cast, batch, Document.Kind.CERTIFICATE_OF_ANALYSIS, by=by)
    return results(cast, batch, by=by)


def submit(cast: Cast, batch: Batch, by: str = "acme.operator") -> Batch:
    with acting(cast, by):
        services.batch_submit(membership=cast.memberships[by], batch=batch)
    return Batch.objects.get(pk=batch.pk)


def dispose(cast: Cast, batch: Batch, choice: str = "release", *, by: str, justification: str = "",
            reason: str = "", password: str = PASSWORD) -> Any:
    with acting(cast, by):
        return services.batch_dispose(request=signing_request(), membership=cast.memberships[by], batch=batch,
                                      choice=choice, password=password, justification=justification, reason=reason)


def at_sponsor(cast: Cast, product: str = "HLX-101", lot: str = "L001") -> Batch:
    """Registered, complete, submitted and released by the CMO's QA: awaiting the sponsor."""
    cmo = CMOS[product]
    qa = f"{cmo}.qa"
    batch = complete(cast, register(cast, product=product, lot=lot), by=qa)
    batch = submit(cast, batch, by=f"{cmo}.operator" if f"{cmo}.operator" in cast.memberships else qa)
    dispose(cast, batch, by=qa)
    return Batch.objects.get(pk=batch.pk)


def ask(cast: Cast, batch: Batch, by: str = "helix.qa", subject: str = "Granulation end point",
        body: str = "Why was the granulation end point reached 4 minutes later than validated?") -> Query:
    with acting(cast, by):
        return services.query_raise(membership=cast.memberships[by], batch=batch, subject=subject, body=body)
