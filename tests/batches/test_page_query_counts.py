"""The batch list, the review queue and the CSV export run the same number of SQL queries with one batch or many,
for the CMO and for a sponsor: the review-by-exception badges are annotations, never a query per row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from batches.models import Batch
from tests.batches.helpers import ask, at_sponsor, complete, register, submit
from tests.deviations.helpers import report as report_deviation
from tests.tenants.test_query_counts import count

pytestmark = pytest.mark.django_db


def grow(cast, n):
    """Per round, at Acme: a Helix batch awaiting Helix (record complete, a query raised), one in Acme's own QA
    review, one in production named by an open deviation, and a Northwind batch in production."""
    start = Batch.objects.count()
    for i in range(start, start + n):
        waiting = at_sponsor(cast, lot=f"HLX-101-G{i:03d}")
        ask(cast, waiting, subject=f"Growth {i}")
        submit(cast, complete(cast, register(cast, lot=f"HLX-101-R{i:03d}")))
        register(cast, lot=f"HLX-101-L{i:03d}")
        register(cast, product="NWB-7", lot=f"NWB-7-G{i:03d}")
    report_deviation(cast, title=f"Growth {start}")  # names HLX-101-L001 (a lot of the first round)


def measure(client, url):
    """Queries of one request, after a warm-up request: the session's last-seen stamp is refreshed at most once a
    minute (tenants.sessions), and growing the data takes longer than that, so the warm-up keeps that write out."""
    client.get(url)
    return count(client, url)


PAGES = [("acme.qa", "batches"), ("acme.qa", "batch-queue"), ("acme.qa", "batch-export"),
         ("helix.qa", "batches"), ("helix.qa", "batch-queue"), ("helix.qa", "batch-export"),
         ("northwind.qa", "batches")]


def test_batch_pages_run_constant_queries(cast, client_for):
    """Grown once (building batches signs dispositions, which is slow), every page counted before and after."""
    clients = {username: client_for(username) for username, _ in PAGES}
    hlx = cast.products["HLX-101"].pk
    urls = [(username, url) for username, name in PAGES
            for url in (reverse(name), f"{reverse(name)}?exceptions=true&product={hlx}")]
    grow(cast, 1)
    small = {(username, url): measure(clients[username], url) for username, url in urls}
    grow(cast, 20)
    assert Batch.objects.filter(state=Batch.State.SPONSOR_REVIEW).count() == 21
    large = {(username, url): measure(clients[username], url) for username, url in urls}
    grown = {key: (small[key], large[key]) for key in urls if small[key] != large[key]}
    assert not grown, f"queries (few batches, many batches) that grew: {grown}"
