"""Targets for the route matrix (tests/test_route_isolation.py): batches on Northwind ↔ Borealis.

Borealis (the CMO) makes NWB-9 for Northwind at Borealis Montreal. Each target is built through the services in
the state its route needs: production writes (register, submit) by a Borealis operator, record writes and
decisions by Borealis's QA approver (so production ≠ quality unit holds), the sponsor's by Northwind's QA.
Helix, Acme and Helix's auditor stay outside; a live grant on Northwind ↔ Borealis lets the auditor read.

The matrices themselves are in ``route_matrix_pages.py`` and ``route_matrix_api.py``; ``batch_routes`` hands
them to the meta-test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from batches.models import Batch, Disposition, Document, Query
from tenants.permissions import Role
from tests.batches.helpers import ask, complete, dispose, register, submit
from tests.deviations.routes import member
from tests.factories import Cast

CMO, QA, OPERATOR = "borealis", "borealis.qa", "borealis.operator"
SPONSOR_QA = "northwind.qa"
PRODUCT = "NWB-9"


def _lot(cast: Cast) -> str:
    """A fresh lot number per target (a case may build several)."""
    return f"NWB9-{Batch.objects.filter(product=cast.products[PRODUCT]).count() + 1:03d}"


def in_production(cast: Cast) -> Batch:
    """Registered by Borealis's operator, record complete (EBR, CoA, QC results), not yet submitted."""
    member(cast, OPERATOR, Role.OPERATOR)
    batch = register(cast, product=PRODUCT, lot=_lot(cast), by=OPERATOR)
    return complete(cast, batch, by=QA)


def bare(cast: Cast) -> Batch:
    """Registered, nothing uploaded yet."""
    member(cast, OPERATOR, Role.OPERATOR)
    return register(cast, product=PRODUCT, lot=_lot(cast), by=OPERATOR)


def cmo_review(cast: Cast) -> Batch:
    """Submitted by the operator: Borealis's QA approver may release it."""
    return submit(cast, in_production(cast), by=OPERATOR)


def at_sponsor(cast: Cast) -> Batch:
    """Released by Borealis's QA: awaiting Northwind's disposition (its review clock runs)."""
    batch = cmo_review(cast)
    dispose(cast, batch, by=QA)
    return Batch.objects.get(pk=batch.pk)


def released(cast: Cast) -> Batch:
    batch = at_sponsor(cast)
    dispose(cast, batch, by=SPONSOR_QA)
    return Batch.objects.get(pk=batch.pk)


def document(cast: Cast) -> Document:
    """The current executed batch record of a batch in production."""
    return Document.objects.get(batch=in_production(cast), kind=Document.Kind.EXECUTED_BATCH_RECORD,
                                superseded=False)


def disposition(cast: Cast) -> Disposition:
    """Borealis's signed release of a batch now awaiting Northwind."""
    return Disposition.objects.get(batch=at_sponsor(cast), step=Disposition.Step.CMO_RELEASE)


def query(cast: Cast) -> Query:
    """Northwind's open query on a batch awaiting its disposition."""
    return ask(cast, at_sponsor(cast), by=SPONSOR_QA, subject="Fill weight trend",
               body="Route matrix: why do fill weights drift upward after hour 6?")


def import_rows(cast: Cast) -> list[dict[str, Any]]:
    """One valid row for Borealis (a fresh lot each call)."""
    today = timezone.localdate()
    return [{"product": PRODUCT, "lot_number": f"IMP-{Batch.objects.count() + 1:04d}", "site": "Borealis Montreal",
             "manufactured_on": (today - dt.timedelta(days=5)).isoformat(), "quantity": "1200", "unit": "vials"}]


def batch_routes() -> list[Any]:
    """Every batch route's matrix, for tests/test_route_isolation.py."""
    from tests.batches.route_matrix_api import ROUTES as API
    from tests.batches.route_matrix_pages import ROUTES as PAGES

    return [*API, *PAGES]
