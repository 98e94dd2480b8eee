"""Reads and visibility for the tenancy core. Every queryset a view uses starts here, from the acting membership.

Visibility rules (DESIGN.md §3.1):
- an organization sees itself and the organizations it has a partnership with;
- a CMO sees its own sites, and the sponsor products in scope of its partnerships;
- a sponsor sees its own products, and the CMO sites in scope of its partnerships;
- both parties see their partnership; nobody sees a partnership they are not party to;
- members are visible to the organization's own members (listing them is an admin capability).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from tenants.models import Membership, Organization, Partnership, Product, Site, User


def partnership_list(*, membership: Membership) -> QuerySet[Partnership]:
    org_id = membership.organization_id
    return (
        Partnership.objects.filter(Q(sponsor_id=org_id) | Q(cmo_id=org_id))
        .select_related("sponsor", "cmo")
        .prefetch_related(
            Prefetch("sites", queryset=Site.objects.order_by("name")),
            Prefetch("products", queryset=Product.objects.order_by("code")),
        )
    )


def organization_list(*, membership: Membership) -> QuerySet[Organization]:
    org_id = membership.organization_id
    partnered = Partnership.objects.filter(
        Q(sponsor_id=org_id, cmo_id=OuterRef("pk")) | Q(cmo_id=org_id, sponsor_id=OuterRef("pk"))
    )
    return Organization.objects.filter(Q(pk=org_id) | Exists(partnered))


def site_list(*, membership: Membership) -> QuerySet[Site]:
    org_id = membership.organization_id
    in_sponsor_scope = Partnership.sites.through.objects.filter(
        site_id=OuterRef("pk"), partnership__sponsor_id=org_id
    )
    return Site.objects.filter(Q(organization_id=org_id) | Exists(in_sponsor_scope)).select_related("organization")


def product_list(*, membership: Membership) -> QuerySet[Product]:
    org_id = membership.organization_id
    in_cmo_scope = Partnership.products.through.objects.filter(
        product_id=OuterRef("pk"), partnership__cmo_id=org_id
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
