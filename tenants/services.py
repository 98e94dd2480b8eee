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

from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import versioned_save
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


def _require_reason(reason: str | None) -> str:
    """Sites and products are effective from creation (no draft): every later change states why (Part 11)."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": "State the reason for this change; it is kept in the audit trail."})
    return reason.strip()


@transaction.atomic
def site_update(*, membership: Membership, site: Site, reason: str | None = None,
                expected_version: int | None = None, precondition: bool = False, **changes: Any) -> Site:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    _require_owner(membership, site)
    changed = _apply(site, SITE_FIELDS, changes)
    if changed:
        why = _require_reason(reason)
        full_clean_by_field(site)
        with reason_for_change(why):
            versioned_save(site, changed, expected_version, precondition)
    else:
        versioned_save(site, changed, expected_version, precondition)
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
def product_update(*, membership: Membership, product: Product, reason: str | None = None,
                   expected_version: int | None = None, precondition: bool = False, **changes: Any) -> Product:
    _require(membership, Capability.MANAGE_MASTER_DATA)
    _require_owner(membership, product)
    changed = _apply(product, PRODUCT_FIELDS, changes)
    if changed:
        why = _require_reason(reason)
        full_clean_by_field(product)
        with reason_for_change(why):
            versioned_save(product, changed, expected_version, precondition)
    else:
        versioned_save(product, changed, expected_version, precondition)
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



@transaction.atomic
def member_add(*, membership: Membership, email: str, first_name: str, last_name: str, role: str,
               set_password_url: Any = None) -> tuple[Membership, str | None]:
    """Add a person to the organization by e-mail. An existing account gains a membership; a new account is
    created without a usable password and gets a single-use link to set one (returned, and e-mailed on commit).

    ``set_password_url(user) -> str`` builds the absolute link (the view knows the host).
    """
    _require(membership, Capability.MANAGE_MEMBERS)
    email = (email or "").strip().lower()
    errors: dict[str, str] = {}
    if not email or "@" not in email:
        errors["email"] = "Enter the person's e-mail address."
    if role not in Role.values:
        errors["role"] = f"Unknown role {role!r}."
    if errors:
        raise ValidationError(errors)
    user = User.objects.filter(email__iexact=email).first()
    link = None
    if user is None:
        if not first_name.strip() or not last_name.strip():
            raise ValidationError({"first_name" if not first_name.strip() else "last_name":
                                   "A new account needs the person's first and last name (printed on signatures)."})
        user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip())
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        link = set_password_url(user) if set_password_url else None
    elif Membership.objects.filter(user=user, organization_id=membership.organization_id).exists():
        raise ValidationError({"email": "This person is already a member of your organization."})
    added = Membership(user=user, organization_id=membership.organization_id, role=role)
    added.full_clean(exclude=["user", "organization"])
    added.save()
    _invite_on_commit(added, link)
    return added, link


def _invite_on_commit(member: Membership, link: str | None) -> None:
    from django.core.mail import send_mail

    organization = member.organization.name if member.organization_id else "your organization"
    body = (f"You have been added to {organization} in Oversight QMS as {member.get_role_display()}.\n\n"
            + (f"Set your password here (the link works once): {link}\n" if link else
               "Log in with your existing account; you can switch to this organization from the top bar.\n"))
    transaction.on_commit(lambda: send_mail(
        subject=f"Oversight QMS: access to {organization}", message=body, from_email=None,
        recipient_list=[member.user.email], fail_silently=True,
    ))
