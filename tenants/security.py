"""Account security services: unlocking after lockout, and ending a person's sessions and tokens."""

from __future__ import annotations

import logging

from axes.utils import reset as axes_reset
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from tenants import rls
from tenants.models import Membership, MembershipToken, SecurityEvent, User, UserSession
from tenants.permissions import Capability, can

logger = logging.getLogger("qms.security")


@transaction.atomic
def account_unlock(*, actor: User, membership: Membership | None, username: str, reason: str) -> int:
    """Clear the failed-login lockout of ``username``. A platform superuser may unlock anyone; an org admin,
    only a member of their organization. The reason is required and recorded."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the account is unlocked; the reason is recorded."})
    target = User.objects.filter(username=username).first()
    if target is None:
        raise ValidationError({"username": "No such user."})
    organization_id = None
    if not actor.is_superuser:
        if not can(membership, Capability.MANAGE_MEMBERS):
            raise PermissionDenied("Only an org admin may unlock a member's account.")
        assert membership is not None
        if not Membership.objects.filter(user=target, organization_id=membership.organization_id).exists():
            raise ValidationError({"username": "No such member in your organization."})
        organization_id = membership.organization_id
    cleared = axes_reset(username=username)
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.ACCOUNT_UNLOCKED, organization_id=organization_id, actor=actor,
        subject=username, reason=reason.strip(), detail={"attempt_records_cleared": cleared},
    )
    logger.info("account %s unlocked by %s: %s", username, actor.username, reason)
    return cleared


def end_sessions_and_tokens(*, user_id: int, why: str) -> tuple[int, int]:
    """Delete every session of the user and revoke every token of theirs, in all organizations, at once."""
    with transaction.atomic(), rls.system_context(f"end sessions and tokens of user {user_id}: {why}"):
        sessions, _ = UserSession.objects.filter(user_id=user_id).delete()
        tokens = MembershipToken.objects.filter(membership__user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        SecurityEvent.objects.create(kind=SecurityEvent.Kind.SESSIONS_ENDED, subject=f"user {user_id}",
                                     reason=why, detail={"sessions": sessions, "tokens": tokens})
    logger.info("ended %s sessions and %s tokens of user %s (%s)", sessions, tokens, user_id, why)
    return sessions, tokens
