"""Writes for the tenancy core. Views and the API call these; nothing else saves these models.

Each service takes the acting membership, checks the capability itself (views check too, but a service must
be safe to call from a task or a shell), validates with ``full_clean`` so errors name the field, and runs in
one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import user_has_device

from qms.validation import full_clean_by_field
from tenants import rls, second_factor
from tenants.models import Membership, MembershipToken, Product, Site, User
from tenants.permissions import Capability, Role, can

SITE_FIELDS = ("name", "fei_number", "country", "address", "activities", "is_active")
PRODUCT_FIELDS = ("name", "code", "dosage_form", "modality", "markets", "is_active")


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, obj: Any) -> None:
    if getattr(obj, f"{obj.owner_field}_id") != membership.organization_id:
        raise PermissionDenied("This record belongs to a partner organization and is read-only for you.")


def _apply(obj: Any, allowed: Iterable[str], changes: dict[str, Any]) -> list[str]:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    changed = [name for name, value in changes.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, changes[name])
    return changed


@transaction.atomic
def site_create(*, membership: Membership, **fields: Any) -> Site:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    if not membership.organization.is_cmo:
        raise ValidationError({"organization": "Only a CMO organization has manufacturing sites."})
    site = Site(organization=membership.organization)
    _apply(site, SITE_FIELDS, fields)
    full_clean_by_field(site)
    site.save()
    return site


@transaction.atomic
def site_update(*, membership: Membership, site: Site, **changes: Any) -> Site:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    _require_owner(membership, site)
    changed = _apply(site, SITE_FIELDS, changes)
    if changed:
        full_clean_by_field(site)
        site.save(update_fields=changed)
    return site


@transaction.atomic
def product_create(*, membership: Membership, **fields: Any) -> Product:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    if not membership.organization.is_sponsor:
        raise ValidationError({"organization": "Only a sponsor organization owns products."})
    product = Product(organization=membership.organization)
    _apply(product, PRODUCT_FIELDS, fields)
    full_clean_by_field(product)
    product.save()
    return product


@transaction.atomic
def product_update(*, membership: Membership, product: Product, **changes: Any) -> Product:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    _require_owner(membership, product)
    changed = _apply(product, PRODUCT_FIELDS, changes)
    if changed:
        full_clean_by_field(product)
        product.save(update_fields=changed)
    return product


@transaction.atomic
def membership_update(
    *, membership: Membership, target: Membership, role: str | None = None, is_active: bool | None = None
) -> Membership:
    """Change a member's role or deactivate them; an organization always keeps one active org admin."""
    _require(membership, Capability.MANAGE_MEMBERS)
    _require_owner(membership, target)
    changed: list[str] = []
    if role is not None and role != target.role:
        if role not in Role.values:
            raise ValidationError({"role": f"Unknown role {role!r}."})
        target.role = role
        changed.append("role")
    if is_active is not None and is_active != target.is_active:
        target.is_active = is_active
        changed.append("is_active")
    if not changed:
        return target
    still_admin = target.is_active and target.role == Role.ORG_ADMIN
    if not still_admin:
        other_admins = (
            Membership.objects.select_for_update()
            .filter(organization_id=target.organization_id, role=Role.ORG_ADMIN, is_active=True)
            .exclude(pk=target.pk)
        )
        if not other_admins.exists():
            field = "role" if "role" in changed else "is_active"
            raise ValidationError({field: "The organization must keep at least one active org admin."})
    target.save(update_fields=changed)
    if not target.is_active:
        MembershipToken.objects.filter(membership=target, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return target


@transaction.atomic
def token_issue(*, request: Any, username: str, password: str, organization_slug: str,
                otp: str | None = None) -> tuple[str, MembershipToken]:
    """Check the credentials and issue a token bound to the user's membership in ``organization_slug``.

    Wrong password, unknown user and "not a member" give the same error, so the endpoint reveals neither
    which usernames exist nor who belongs to which organization.
    """
    failure = ValidationError("Unable to log in with the provided credentials and organization.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise failure
    # The user's own memberships become visible, nothing else; the caller's context is restored afterwards.
    with rls.scoped(rls.Context(user_id=user.pk)):
        membership = (
            Membership.objects.select_related("organization", "user")
            .filter(user=user, organization__slug=organization_slug, is_active=True, organization__is_active=True)
            .first()
        )
        if membership is None:
            raise failure
        if user_has_device(user) or second_factor.required_for(membership):
            if not otp:
                raise ValidationError({"otp": "Enter the code from your authenticator app."})
            if second_factor.verify(user, otp) is None:
                raise ValidationError({"otp": "That code is not valid."})
        rls.activate_membership(membership)
        key, key_hash = MembershipToken.new_key()
        token = MembershipToken.objects.create(membership=membership, key_hash=key_hash, prefix=key[:8])
    return key, token


@transaction.atomic
def token_revoke(*, token: MembershipToken) -> None:
    MembershipToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def active_organization_switch(*, user: User, session: Any, slug: str) -> Membership:
    """Make ``slug`` the session's acting organization; only an organization the user belongs to.

    The rest of this transaction acts for the new membership too.
    """
    from tenants.context import ACTIVE_ORG_SESSION_KEY
    from tenants.selectors import memberships_of_user

    membership = memberships_of_user(user=user).filter(organization__slug=slug).first()
    if membership is None:
        raise ValidationError({"organization": "You are not a member of that organization."})
    session[ACTIVE_ORG_SESSION_KEY] = membership.organization.slug
    rls.activate_membership(membership)
    return membership

