"""The batch list endpoints run a constant number of SQL queries whatever the number of rows, for the CMO and for
the sponsor (the review-by-exception flags are annotations, the names joined, never one query per row)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.batches.helpers import ask, at_sponsor, complete, register, submit
from tests.tenants.test_query_counts import count

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def grow(cast, start: int, n: int) -> None:
    """n batches of HLX-101 in Acme's QA review and n awaiting Helix with an open query (each fully documented)."""
    for i in range(start, start + n):
        submit(cast, complete(cast, register(cast, lot=f"HLX-Q-{i:03d}")))
        ask(cast, at_sponsor(cast, lot=f"HLX-S-{i:03d}"), subject=f"Question {i}")


ENDPOINTS = [(username, name) for username in ("acme.qa", "helix.qa") for name in (
    "api:batch-list", "api:batch-queue", "api:batch-export", "api:batch-document-list", "api:batch-query-list",
    "api:batch-disposition-list")]


@pytest.mark.parametrize(("username", "name"), ENDPOINTS)
def test_constant_queries(cast, api_for, username, name):
    client = api_for(username)
    url = reverse(name)
    grow(cast, 0, 1)
    small = count(client, url)
    grow(cast, 1, 10)
    large = count(client, url)
    assert large == small, f"{name}: {small} queries with few rows, {large} with many"
    rows = client.get(url)
    if name != "api:batch-export":
        assert rows.json()["count"] >= 11, "the endpoint must list the grown rows"
