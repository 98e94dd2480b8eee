"""The inspection list endpoints run a constant number of SQL queries whatever the number of rows, for the CMO and
for each sponsor (the reader's own scope lines, affected lines, impact rows, comment threads and notice clocks are
prefetches, the names joined, never one query per row)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from inspections import services
from tests.agreements.helpers import acting
from tests.inspections.helpers import affected, inspect, noon, observe, record_483
from tests.tenants.test_query_counts import count

pytestmark = pytest.mark.django_db


def grow(cast, n: int) -> None:
    """n FDA inspections at Acme Boston, each with a 483 of a site-wide, an NWB-7-only and a Helix-originated
    observation, a CAPA linked, an impact row per sponsor, and both sponsors told."""
    member = cast.memberships["acme.qa"]
    for _ in range(n):
        form483 = record_483(cast, inspect(cast), dt.date(2026, 11, 6))
        site = observe(cast, form483)
        observe(cast, form483, "21 CFR 211.165", text="NWB-7 stability.", visibility="product_specific",
                affected=[affected(cast, "northwind", "NWB-7")])
        observe(cast, form483, "21 CFR 211.100(a)", text="HLX-101 filing.", visibility="product_specific",
                accountability="sponsor", accountability_rationale="Filing.",
                affected=[affected(cast, "helix", "HLX-101")])
        with acting(cast, "acme.qa"):
            for sponsor in ("helix", "northwind"):
                services.impact_assess(membership=member, observation=site, impact="indirect", rationale="Shared.",
                                       partnership_id=cast.partnership(sponsor, "acme").pk)
            services.capa_create_for(membership=member, observation=site, title="Cleaning", description="Verify.")
            services.inspection_notify(membership=member, inspection=form483.inspection, event="fda_483",
                                       now=noon(dt.date(2026, 11, 7)))


LISTS = ("api:inspection-list", "api:inspection-form483-list", "api:inspection-observation-list",
         "api:inspection-notice-list", "api:inspection-impact-list", "api:inspection-dashboard")
ENDPOINTS = [(username, name) for username in ("acme.qa", "helix.qa", "northwind.qa") for name in LISTS]
#: Rows each reader gets per inspection: (inspections, 483s, observations, notices, impacts).
PER_INSPECTION = {"acme.qa": (1, 1, 3, 2, 2), "helix.qa": (1, 1, 2, 1, 1), "northwind.qa": (1, 1, 2, 1, 1)}


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
    if name == "api:inspection-dashboard":
        assert len(body["inspections"]) == 3 and len(body["open_483s"]) == 3
        assert len(body["impacts"]) == (0 if username == "acme.qa" else 3)
    else:
        expected = PER_INSPECTION[username][LISTS.index(name)]
        assert body["count"] == 3 * expected
