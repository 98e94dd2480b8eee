"""The inspection list, the sponsor dashboard and the 483 page run the same number of SQL queries with one
inspection (or observation) or many, for the CMO and for a sponsor: everything a row shows is prefetched."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from inspections import services
from inspections.models import Form483, Inspection, Observation
from tests.agreements.helpers import acting
from tests.inspections.helpers import affected, inspect, observe, record_483, respond
from tests.tenants.test_query_counts import count

pytestmark = pytest.mark.django_db


def grow(cast, n, form483):
    """Per round: an inspection at Acme Boston with its 483 and notices sent, and on the measured 483 a site-wide
    observation, a product-specific one for each sponsor, each with its impact, a drafted response and a CAPA."""
    member = cast.memberships["acme.qa"]
    for _ in range(n):
        other = inspect(cast, started=dt.date(2026, 11, 2))
        record_483(cast, other, dt.date(2026, 11, 6))
        with acting(cast, "acme.qa"):
            services.inspection_notify(membership=member, inspection=other, event="fda_483")
        site = observe(cast, form483, "21 CFR 211.67(a)", text="Site-wide growth observation.")
        helix = observe(cast, form483, "21 CFR 211.100(a)", text="Helix growth observation.",
                        visibility="product_specific", affected=[affected(cast, "helix", "HLX-101")])
        nwb7 = observe(cast, form483, "21 CFR 211.165", text="NWB-7 growth observation.",
                       visibility="product_specific", affected=[affected(cast, "northwind", "NWB-7")])
        with acting(cast, "acme.qa"):
            for obs, sponsor in ((site, "helix"), (site, "northwind"), (helix, "helix"), (nwb7, "northwind")):
                services.impact_assess(membership=member, observation=obs, impact="indirect",
                                       partnership_id=cast.partnership(sponsor, "acme").pk, rationale="Growth")
            services.capa_create_for(membership=member, observation=site, title="Growth CAPA",
                                     description="Growth")
        for obs in (site, helix, nwb7):
            respond(cast, obs)


def measure(client, url):
    """Queries of one request, after a warm-up request (the session's last-seen stamp is written at most once a
    minute)."""
    client.get(url)
    return count(client, url)


def test_inspection_pages_run_constant_queries(cast, client_for):
    measured = inspect(cast, started=dt.date(2026, 11, 2))
    form483 = record_483(cast, measured, dt.date(2026, 11, 6))
    with acting(cast, "acme.qa"):
        services.inspection_notify(membership=cast.memberships["acme.qa"], inspection=measured, event="fda_483")
    users = ("acme.qa", "helix.qa", "northwind.qa")
    clients = {username: client_for(username) for username in users}
    urls = [reverse("inspections"), f"{reverse('inspections')}?authority=fda&state=in_progress",
            reverse("inspection-dashboard"), reverse("inspection-483", args=[form483.pk]),
            reverse("inspection-detail", args=[measured.pk])]
    grow(cast, 1, form483)
    small = {(u, url): measure(clients[u], url) for u in users for url in urls}
    grow(cast, 4, form483)
    assert Inspection.objects.count() == 6 and Observation.objects.filter(form483=form483).count() == 15
    assert Form483.objects.count() == 6
    large = {(u, url): measure(clients[u], url) for u in users for url in urls}
    grown = {key: (small[key], large[key]) for key in small if small[key] != large[key]}
    assert not grown, f"queries (few, many) that grew: {grown}"
