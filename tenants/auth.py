"""How people and API clients prove who they are."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework import authentication, exceptions

from tenants import rls
from tenants.models import MembershipToken, User, hash_token


def token_identity(key: str) -> tuple[int, int, int, int] | None:
    """(token, membership, user, organization) ids of a live token, looked up before any tenant context exists.

    ``qms_token_identity`` is a SECURITY DEFINER function (tenants migration 0002): it can read the token and
    membership tables, whose row-level security would otherwise hide them, and returns only this one row.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM qms_token_identity(%s)", [hash_token(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, membership_id, user_id, organization_id = row
    return int(token_id), int(membership_id), int(user_id), int(organization_id)


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the e-mail address (case-insensitive), checked with argon2."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        user = User.objects.filter(Q(username=username) | Q(email__iexact=username, email__gt="")).first()
        if user is None:
            User().set_password(password)  # same cost as a real check: timing does not reveal unknown users
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class MembershipTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``: the request acts as the token's membership and nothing else.

    A revoked token, a deactivated membership, user or organization all answer 401 at once.
    """

    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[User, MembershipToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        identity = token_identity(key)
        if identity is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        token_id, membership_id, user_id, organization_id = identity
        # The token's own context, for the rest of this request's transaction (overrides any session's).
        rls.activate(user_id=user_id, organization_id=organization_id, membership_id=membership_id)
        token = MembershipToken.objects.select_related("membership__user", "membership__organization").get(
            pk=token_id
        )
        membership = token.membership
        if not membership.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            MembershipToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return membership.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


def lockout_response(request: HttpRequest, original_response: Any, credentials: Any) -> HttpResponse:
    """django-axes lockout answer: the JSON error shape for the API, the explanatory page for people."""
    from django.conf import settings
    from django.http import JsonResponse
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    message = "Too many failed log-in attempts for this account or from this address. " + (
        f"Try again in {minutes} minutes or ask your organization's admin to unlock the account."
        if minutes else "Ask your organization's admin to unlock the account.")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
