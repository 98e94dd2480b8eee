"""The change list endpoints run a constant number of SQL queries whatever the number of rows, for the owner and
for a sponsor (the reader's own lines are one prefetch, the names joined, never one query per row)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.changes.helpers import RELAX, assess, decide, raise_change, submit
from tests.tenants.test_query_counts import count

pytestmark = pytest.mark.django_db


def grow(cast, n: int) -> None:
    """n changes pending approval (HLX-101 and NWB-7: a Helix approval and filings to decide), and n with a
    prior-approval filing Helix confirmed (an agency approval to record)."""
    for _ in range(n):
        submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
        relaxed = assess(cast, raise_change(cast, title="Widen the dissolution limit"), RELAX)
        decide(cast, relaxed, "HLX-101", "US", by="helix.qa")


ENDPOINTS = [(username, name) for username in ("acme.qa", "helix.qa", "northwind.qa")
             for name in ("api:change-list", "api:change-awaiting")]


@pytest.mark.parametrize(("username", "name"), ENDPOINTS)
def test_constant_queries(cast, api_for, username, name):
    client = api_for(username)
    url = reverse(name)
    grow(cast, 1)
    client.get(url)  # warm-up: per-process caches (content types, the session) filled before counting
    small = count(client, url)
    grow(cast, 2)
    large = count(client, url)
    assert large == small, f"{name} as {username}: {small} queries with N rows, {large} with 3N"
    body = client.get(url).json()
    if name == "api:change-list":
        assert body["count"] == {"acme.qa": 6, "helix.qa": 6, "northwind.qa": 3}[username]
    else:
        assert body["count"] == {
            "acme.qa": 0,
            "helix.qa": 3 + 3 * 2 + 3 + 3,  # approvals; HLX-101 US + EU filings of A, EU of B; B's US agency
            "northwind.qa": 3 + 3 * 3,  # approvals; NWB-7 US, EU, UK filings
        }[username]
