"""Signal receivers that keep sessions and tokens consistent with the account they belong to."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from tenants.models import User
from tenants.security import end_sessions_and_tokens
from tenants.sessions import mark_login

user_logged_in.connect(mark_login, dispatch_uid="qms_mark_login")


@receiver(pre_save, sender=User, dispatch_uid="qms_user_before_save")
def remember_previous_state(sender: type[User], instance: User, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    previous = User.objects.filter(pk=instance.pk).values("is_active", "password").first()
    instance._qms_previous = previous  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="qms_user_after_save")
def end_access_when_deactivated_or_password_changed(sender: type[User], instance: User, created: bool,
                                                    **kwargs: Any) -> None:
    """A deactivated account loses every session and token at once; a new password ends its API tokens
    (other browser sessions already end through Django's session hash check)."""
    previous = getattr(instance, "_qms_previous", None)
    if created or previous is None:
        return
    if previous["is_active"] and not instance.is_active:
        end_sessions_and_tokens(user_id=instance.pk, why="account deactivated")
    elif previous["password"] != instance.password and instance.is_active:
        from django.db import transaction
        from django.utils import timezone

        from tenants import rls
        from tenants.models import MembershipToken

        with transaction.atomic(), rls.system_context(f"password changed: revoke tokens of user {instance.pk}"):
            MembershipToken.objects.filter(membership__user_id=instance.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
