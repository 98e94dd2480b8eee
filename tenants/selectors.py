"""Reads and visibility for the tenancy core. Every queryset a view uses starts here, from the acting membership.

Visibility rules (DESIGN.md §3.1):
- an organization sees itself and the organizations it has a partnership with;
- a CMO sees its own sites, and the sponsor products in scope of its partnerships;
- a sponsor sees its own products, and the CMO sites in scope of its partnerships;
- both parties see their partnership; nobody sees a partnership they are not party to;
- members are visible to the organization's own members (listing them is an admin capability);
- a live access grant lets its grantee membership see the partnership, its parties, and the sites and products
  in its scope (read-only), until it expires or is revoked.

The row-level-security policies in tenants/migrations/ state the same rules in SQL; tests/tenants/test_rls.py
checks that both layers agree for every member of the cast.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from tenants.models import AccessGrant, Membership, Organization, Partnership, Product, Site, User


def granted_partnership_ids(*, membership: Membership) -> QuerySet[AccessGrant, Any]:
    """Partnership ids that live grants show to ``membership`` (a subquery, never a loop)."""
    return AccessGrant.objects.live().filter(grantee_id=membership.pk).values("partnership_id")


def partnership_list(*, membership: Membership) -> QuerySet[Partnership]:
    org_id = membership.organization_id
    return (
        Partnership.objects.filter(
            Q(sponsor_id=org_id) | Q(cmo_id=org_id) | Q(id__in=granted_partnership_ids(membership=membership))
        )
        .select_related("sponsor", "cmo")
        .prefetch_related(
            Prefetch("sites", queryset=Site.objects.order_by("name")),
            Prefetch("products", queryset=Product.objects.order_by("code")),
        )
    )


def organization_list(*, membership: Membership) -> QuerySet[Organization]:
    org_id = membership.organization_id
    visible = partnership_list(membership=membership).order_by()
    # Two IN subqueries, not EXISTS(... a OR b): the planner can use the sponsor and cmo indexes.
    return Organization.objects.filter(
        Q(pk=org_id) | Q(pk__in=visible.values("sponsor_id")) | Q(pk__in=visible.values("cmo_id"))
    )


def site_list(*, membership: Membership) -> QuerySet[Site]:
    org_id = membership.organization_id
    in_sponsor_scope = Partnership.sites.through.objects.filter(site_id=OuterRef("pk")).filter(
        Q(partnership__sponsor_id=org_id) | Q(partnership_id__in=granted_partnership_ids(membership=membership))
    )
    return Site.objects.filter(Q(organization_id=org_id) | Exists(in_sponsor_scope)).select_related("organization")


def product_list(*, membership: Membership) -> QuerySet[Product]:
    org_id = membership.organization_id
    in_cmo_scope = Partnership.products.through.objects.filter(product_id=OuterRef("pk")).filter(
        Q(partnership__cmo_id=org_id) | Q(partnership_id__in=granted_partnership_ids(membership=membership))
    )
    return Product.objects.filter(Q(organization_id=org_id) | Exists(in_cmo_scope)).select_related("organization")


def member_list(*, membership: Membership) -> QuerySet[Membership]:
    return Membership.objects.filter(organization_id=membership.organization_id).select_related(
        "user", "organization"
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """The memberships a person may act through: active, in an active organization."""
    return (
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def membership_for_slug(*, user: User, slug: str | None) -> Membership | None:
    """The membership to act through for ``slug``; falls back to the user's first membership."""
    memberships = list(memberships_of_user(user=user))
    if not memberships:
        return None
    for candidate in memberships:
        if candidate.organization.slug == slug:
            return candidate
    return memberships[0]


def dashboard_counts(*, membership: Membership) -> dict[str, int]:
    return {
        "partnerships": partnership_list(membership=membership).count(),
        "sites": site_list(membership=membership).count(),
        "products": product_list(membership=membership).count(),
    }


def grant_list(*, membership: Membership) -> QuerySet[AccessGrant]:
    """Grants the organization has given, and grants this membership holds."""
    return AccessGrant.objects.filter(
        Q(organization_id=membership.organization_id) | Q(grantee_id=membership.pk)
    ).select_related("partnership__sponsor", "partnership__cmo", "organization").prefetch_related(
        Prefetch("partnership__sites", queryset=Site.objects.order_by("name")),
        Prefetch("partnership__products", queryset=Product.objects.order_by("code")),
    )


def grantable_partnerships(*, membership: Membership) -> QuerySet[Partnership]:
    """Partnerships this organization may show to a third party: those where it is the sponsor."""
    return Partnership.objects.filter(sponsor_id=membership.organization_id).select_related("sponsor", "cmo")
