"""The scoping rule of DESIGN.md §3.1/§3.2 layer 1, as the issue states it, through the API."""

import pytest
from django.urls import reverse
from rest_framework import viewsets

from tenants import selectors
from tenants.scoping import ScopedPageMixin, ScopedViewSet


def partnership_pairs(api, username):
    rows = api(username).get(reverse("api:partnership-list")).json()["results"]
    return {(row["sponsor"]["slug"], row["cmo"]["slug"]) for row in rows}


def test_helix_sees_its_partnership_only(cast, api_for):
    assert partnership_pairs(api_for, "helix.qa") == {("helix", "acme")}


def test_acme_sees_both_of_its_partnerships(cast, api_for):
    assert partnership_pairs(api_for, "acme.qa") == {("helix", "acme"), ("northwind", "acme")}


def test_borealis_sees_neither_of_acmes(cast, api_for):
    assert partnership_pairs(api_for, "borealis.qa") == {("northwind", "borealis")}


def test_northwind_sees_both_cmos(cast, api_for):
    assert partnership_pairs(api_for, "northwind.qa") == {("northwind", "acme"), ("northwind", "borealis")}


def test_organizations_are_self_plus_partners(cast, api_for):
    rows = api_for("helix.qa").get(reverse("api:organization-list")).json()["results"]
    assert {row["slug"] for row in rows} == {"helix", "acme"}
    rows = api_for("acme.qa").get(reverse("api:organization-list")).json()["results"]
    assert {row["slug"] for row in rows} == {"acme", "helix", "northwind"}


def test_sponsor_sees_only_partner_sites_in_scope(cast, api_for):
    rows = api_for("northwind.qa").get(reverse("api:site-list")).json()["results"]
    assert {row["name"] for row in rows} == {"Acme Cork", "Borealis Montreal"}


def test_cmo_sees_products_in_scope_never_other_sponsors_extra_products(cast, api_for):
    from tests.factories import ProductFactory

    ProductFactory(organization=cast.orgs["helix"], code="HLX-900")  # not in any partnership
    rows = api_for("acme.qa").get(reverse("api:product-list")).json()["results"]
    assert {row["code"] for row in rows} == {"HLX-101", "NWB-7"}


def test_viewer_write_is_403(cast, api_for):
    response = api_for("helix.viewer").post(reverse("api:product-list"), {"code": "HLX-2", "name": "x",
                                            "dosage_form": "Tablet", "modality": "small_molecule"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_foreign_id_is_404_like_missing(cast, api_for):
    client = api_for("borealis.qa")
    foreign = client.get(reverse("api:partnership-detail", args=[cast.partnership("helix", "acme").pk]))
    missing = client.get(reverse("api:partnership-detail", args=[10**9]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_organization_in_request_body_is_ignored(cast, api_for):
    """The owner comes from the membership: naming another organization in the body changes nothing."""
    response = api_for("acme.qa").post(
        reverse("api:site-list"),
        {"name": "Sneaky", "country": "CA", "organization": cast.orgs["borealis"].pk}, format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["organization"]["slug"] == "acme"


@pytest.mark.parametrize("attribute", ["queryset", "get_queryset", "get_object"])
def test_base_classes_refuse_scoping_overrides(attribute):
    body = {attribute: (lambda self: None) if attribute != "queryset" else None}
    with pytest.raises(TypeError, match="may not define"):
        type("Leaky", (ScopedViewSet,), {"selector": selectors.site_list, **body})
    with pytest.raises(TypeError, match="may not define"):
        type("LeakyPage", (ScopedPageMixin,), {"selector": selectors.site_list, **body})


def test_every_api_viewset_is_scoped():
    """All tenant-data viewsets in the URLconf derive from ScopedViewSet (the only other views are auth/me)."""
    from django.urls import get_resolver

    unscoped = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None and issubclass(cls, viewsets.ViewSetMixin) and not issubclass(cls, ScopedViewSet):
                unscoped.append(cls.__name__)

    walk(get_resolver().url_patterns)
    assert unscoped == []


def _api_detail_routes():
    """(name, GET-able) of every API route whose path takes the record's ``pk``."""
    from django.urls import URLResolver, get_resolver

    found = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
                continue
            actions = getattr(pattern.callback, "actions", None)
            if actions and pattern.name and "pk" in pattern.pattern.regex.groupindex \
                    and len(pattern.pattern.regex.groupindex) == 1 and "format" not in pattern.pattern.regex.pattern:
                found[f"{namespace}{pattern.name}"] = "get" in actions

    walk(get_resolver().url_patterns)
    return found


def test_a_detail_id_that_is_not_a_number_is_404_never_500(cast, api_for):
    """``/api/v1/batches/queries/`` (a mistyped list URL) reads "queries" as a batch id: not found, like any id
    the caller cannot see, on every detail route that takes any path segment (some routes only match digits).
    An action that validates its body first may answer 400 or 403 instead; never a server error."""
    from django.urls import NoReverseMatch

    client = api_for("acme.qa")
    reads, writes = {}, {}
    for name, readable in sorted(_api_detail_routes().items()):
        try:
            url = reverse(name, kwargs={"pk": "not-a-number"})
        except NoReverseMatch:  # the route's pattern takes digits only: Django's 404 before any view runs
            continue
        if readable:
            reads[name] = client.get(url).status_code
            if reads[name] == 403:  # an admin-only list (members, failed e-mails): ask as Acme's admin
                reads[name] = api_for("acme.admin").get(url).status_code
        else:
            writes[name] = client.post(url, {}, format="json").status_code
    assert len(reads) > 40 and len(writes) > 20
    assert {name: code for name, code in reads.items() if code != 404} == {}
    assert {name: code for name, code in writes.items() if code >= 500} == {}
