"""The change list, the sponsor's "awaiting my decision" page and a change's own page run the same number of SQL
queries with few rows or three times as many, for the CMO and for each sponsor: product lines, filing decisions,
earlier rounds' approvals with their signatures and documents are fetched per page, never per row."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from changes import services
from changes.models import ChangeRequest
from tests.agreements.helpers import acting
from tests.batches.test_page_query_counts import measure
from tests.changes.helpers import (
    AUTHOR,
    RELAX,
    assess,
    confirm_all,
    decide,
    qa_approve,
    raise_change,
    sponsor_sign,
    submit,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def grow(cast, n):
    """Per round, at Acme: a change pending both sponsors' approval, and a relaxed specification whose US
    prior-approval supplement Helix confirmed (an agency approval to record)."""
    start = ChangeRequest.objects.count()
    for i in range(start, start + n):
        submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"), title=f"Growth {i}")))
        relaxed = assess(cast, raise_change(cast, title=f"Relax {i}"), RELAX)
        decide(cast, relaxed, "HLX-101", "US", by="helix.qa")


PAGES = [("acme.qa", "changes"), ("helix.qa", "changes"), ("northwind.qa", "changes"),
         ("helix.qa", "change-awaiting"), ("northwind.qa", "change-awaiting")]


def test_list_and_awaiting_pages_run_constant_queries(cast, client_for):
    clients = {username: client_for(username) for username, _ in PAGES}
    hlx = cast.products["HLX-101"].pk
    urls = [(username, url) for username, name in PAGES
            for url in (reverse(name), f"{reverse(name)}?state=pending_approval&product={hlx}")]
    grow(cast, 1)
    small = {key: measure(clients[key[0]], key[1]) for key in urls}
    grow(cast, 2)
    large = {key: measure(clients[key[0]], key[1]) for key in urls}
    grown = {key: (small[key], large[key]) for key in urls if small[key] != large[key]}
    assert not grown, f"queries (few changes, three times as many) that grew: {grown}"


def _with_history(cast, rounds: int, documents: int) -> ChangeRequest:
    """Rejected by Helix and withdrawn ``rounds`` times, then approved by both parties, with ``documents``
    linked: ``rounds`` earlier rounds with a signed rejection each."""
    change = submit(cast, assess(cast, raise_change(cast, title=f"History {rounds}")))
    for i in range(rounds):
        sponsor_sign(cast, change, "helix.qa", approve=False, comment=f"Round {i + 1}: add comparability data.")
        with acting(cast, AUTHOR):
            services.change_withdraw(membership=cast.memberships[AUTHOR], change=ChangeRequest.objects.get(
                pk=change.pk), reason=f"Revision {i + 1}")
        change = submit(cast, ChangeRequest.objects.get(pk=change.pk))
    confirm_all(cast, change, "helix")
    sponsor_sign(cast, change, "helix.qa")
    change = qa_approve(cast, change)
    with acting(cast, AUTHOR):
        for i in range(documents):
            services.document_attach(membership=cast.memberships[AUTHOR], change=change, kind="validation",
                                     upload=SimpleUploadedFile(f"report-{i}.pdf", PDF + str(i).encode()),
                                     title=f"Report {i}")
    return ChangeRequest.objects.get(pk=change.pk)


def test_change_page_runs_constant_queries(cast, client_for):
    small = _with_history(cast, rounds=1, documents=1)
    large = _with_history(cast, rounds=3, documents=3)
    for username in ("acme.qa", "helix.qa"):
        client = client_for(username)
        few = measure(client, reverse("change-detail", args=[small.pk]))
        many = measure(client, reverse("change-detail", args=[large.pk]))
        assert few == many, (username, few, many)


def test_agreement_page_with_drift_flags_runs_constant_queries(cast, client_for):
    from tests.agreements.helpers import effective
    from tests.changes.test_drift import _implemented

    url = reverse("agreement-detail", args=[effective(cast, "helix", "acme").pk])
    client = client_for("helix.qa")
    _implemented(cast, "specification")
    few = measure(client, url)
    _implemented(cast, "packaging")
    _implemented(cast, "equipment_like_for_like")
    assert "CHG-HIST-equipmen" in client.get(url).content.decode()
    assert measure(client, url) == few
