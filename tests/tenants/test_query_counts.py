"""List pages and list endpoints run a constant number of SQL queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PartnershipFactory, ProductFactory, SiteFactory


def grow(cast, n):
    """Add n CMO partners of Helix, each with a site and a product in scope, and n sites/products for Acme."""
    for _ in range(n):
        partnership = PartnershipFactory(sponsor=cast.orgs["helix"])
        partnership.sites.add(SiteFactory(organization=partnership.cmo))
        partnership.products.add(ProductFactory(organization=cast.orgs["helix"]))
        SiteFactory(organization=cast.orgs["acme"])


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


ENDPOINTS = [
    ("helix.qa", "api:partnership-list"), ("helix.qa", "api:site-list"), ("helix.qa", "api:product-list"),
    ("helix.qa", "api:organization-list"), ("acme.admin", "api:member-list"), ("acme.qa", "api:site-list"),
    ("helix.qa", "home"), ("helix.qa", "partnerships"), ("helix.qa", "sites"), ("helix.qa", "products"),
    ("acme.admin", "members"),
]


@pytest.mark.parametrize(("username", "name"), ENDPOINTS)
def test_constant_queries(cast, client_for, username, name):
    client = client_for(username)
    url = reverse(name)
    grow(cast, 1)
    small = count(client, url)
    grow(cast, 25)
    large = count(client, url)
    assert large == small, f"{name}: {small} queries with few rows, {large} with many"
