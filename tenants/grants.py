"""Per-object grants: services to give, revoke and expire them, and the single-object check.

Visibility lists never loop over grants: selectors join ``AccessGrant.objects.live()`` as a subquery. A single
object may be checked with django-guardian, which holds a direct-FK permission row per live grant.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from guardian.shortcuts import assign_perm

from qms.validation import full_clean_by_field
from tenants import rls
from tenants.models import (
    AccessGrant,
    Membership,
    Partnership,
    PartnershipUserObjectPermission,
    SecurityEvent,
    User,
)
from tenants.permissions import Capability, can

logger = logging.getLogger("qms.security")

VIEW_PARTNERSHIP = "tenants.view_partnership"
MAX_GRANT_DAYS = 366


def _grantee(username: str, organization_slug: str) -> tuple[int, int] | None:
    """(membership id, user id) of a member of another organization, hidden by RLS, via the narrow DB function."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM qms_grantee_membership(%s, %s)", [username, organization_slug])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


@transaction.atomic
def grant_create(
    *, membership: Membership, partnership: Partnership, grantee_username: str, grantee_organization: str,
    reason: str, starts_at: dt.datetime, expires_at: dt.datetime,
) -> AccessGrant:
    if not can(membership, Capability.GRANT_ACCESS):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not grant access.")
    if partnership.sponsor_id != membership.organization_id:
        raise ValidationError({"partnership": "Only the sponsor of a partnership may grant access to it."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why this access is granted; the reason is kept with the grant."})
    if expires_at - starts_at > dt.timedelta(days=MAX_GRANT_DAYS):
        raise ValidationError({"expires_at": f"A grant lasts at most {MAX_GRANT_DAYS} days."})
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The grant would already have expired."})
    grantee = _grantee(grantee_username, grantee_organization)
    if grantee is None:
        raise ValidationError({"grantee_username": "No active member with that username in that organization."})
    grantee_id, grantee_user_id = grantee
    if grantee_id == membership.pk:
        raise ValidationError({"grantee_username": "You cannot grant access to yourself."})
    grant = AccessGrant(
        organization_id=membership.organization_id, grantor=membership, grantee_id=grantee_id,
        grantee_label=f"{grantee_username}@{grantee_organization}", partnership=partnership, reason=reason.strip(),
        grantor_label=f"{membership.user.printed_name} ({membership.organization.name})",
        starts_at=starts_at, expires_at=expires_at,
    )
    # The grantee's membership belongs to another organization, so RLS hides it from the ORM's existence
    # check; qms_grantee_membership vouched for it and the foreign key constraint still holds it.
    full_clean_by_field(grant, exclude=["grantee"])
    grant.save()
    assign_perm(VIEW_PARTNERSHIP, User.objects.get(pk=grantee_user_id), partnership)
    _event(SecurityEvent.Kind.ACCESS_GRANTED, grant, actor_id=membership.user_id, reason=grant.reason)
    logger.info("access grant %s given by %s to %s: %s", grant.pk, membership, grant.grantee_label, grant.reason)
    return grant


@transaction.atomic
def grant_revoke(*, membership: Membership, grant: AccessGrant, reason: str) -> AccessGrant:
    if not can(membership, Capability.GRANT_ACCESS) or grant.organization_id != membership.organization_id:
        raise PermissionDenied("Only the granting organization may revoke this grant.")
    if grant.revoked_at is not None:
        raise ValidationError({"grant": "This grant is already revoked."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the grant is revoked."})
    grant.revoked_at = timezone.now()
    grant.revoked_by = membership
    grant.reason = f"{grant.reason}\n[revoked {grant.revoked_at:%Y-%m-%d %H:%M} UTC] {reason.strip()}"
    grant.save(update_fields=["revoked_at", "revoked_by", "reason"])
    _remove_dead_permissions()
    _event(SecurityEvent.Kind.ACCESS_REVOKED, grant, actor_id=membership.user_id, reason=reason.strip())
    logger.info("access grant %s revoked by %s: %s", grant.pk, membership, reason)
    return grant


def _remove_dead_permissions() -> int:
    """Delete guardian rows no live grant backs any more: one set-based DELETE."""
    live = AccessGrant.objects.live().filter(
        grantee__user_id=OuterRef("user_id"), partnership_id=OuterRef("content_object_id")
    )
    deleted, _ = PartnershipUserObjectPermission.objects.filter(~Exists(live)).delete()
    return deleted


def expire_access_grants(now: dt.datetime | None = None) -> int:
    """Retire grants whose window has ended: mark them and remove their guardian permissions (set-based).

    Runs in the named system context because it sweeps every organization's grants.
    """
    moment = now or timezone.now()
    with transaction.atomic(), rls.system_context("expire access grants"):
        due = list(AccessGrant.objects.select_for_update(skip_locked=True).filter(
            expired_at__isnull=True, expires_at__lte=moment))
        expired = AccessGrant.objects.filter(pk__in=[g.pk for g in due]).update(expired_at=moment)
        removed = _remove_dead_permissions()
        SecurityEvent.objects.bulk_create([_event(SecurityEvent.Kind.ACCESS_EXPIRED, g, actor_id=None,
                                                  reason="window ended", save=False) for g in due])
    if expired or removed:
        logger.info("expired %s access grants, removed %s permissions", expired, removed)
    return expired


def has_live_grant(membership: Membership, partnership: Partnership) -> bool:
    """Single-object check: guardian's permission row and a live grant to this membership."""
    return membership.user.has_perm(VIEW_PARTNERSHIP, partnership) and AccessGrant.objects.live().filter(
        grantee_id=membership.pk, partnership_id=partnership.pk
    ).exists()


def _event(kind: str, grant: AccessGrant, *, actor_id: int | None, reason: str, save: bool = True) -> SecurityEvent:
    event = SecurityEvent(
        kind=kind, organization_id=grant.organization_id, actor_id=actor_id, subject=str(grant), reason=reason,
        detail={"grant": grant.pk, "grantee": grant.grantee_label, "partnership": grant.partnership_id,
                "starts_at": grant.starts_at.isoformat(), "expires_at": grant.expires_at.isoformat()},
    )
    if save:
        event.save()
    return event
