"""Which membership a request acts through. The organization never comes from request data (DESIGN.md §3.2).

- An API token is bound to one membership: that membership, whatever the session says.
- A browser session acts through the organization kept in the session (``switch`` changes it), falling back
  to the user's first membership.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied

from tenants.models import Membership, MembershipToken, User
from tenants.selectors import membership_for_slug

ACTIVE_ORG_SESSION_KEY = "qms_active_org"


def authenticated_user(request: Any) -> User:
    """The request's user, for views that already required login (so it is never the anonymous user)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Log in first.")
    return cast(User, user)


def membership_for_session(*, user: User, session: Any) -> Membership | None:
    """The membership a browser session acts through: the one kept in the session, else the first."""
    slug = session.get(ACTIVE_ORG_SESSION_KEY) if session is not None else None
    return membership_for_slug(user=user, slug=slug)


def resolve_acting_membership(request: Any) -> Membership | None:
    """The acting membership of a request: the token's, else the one the middleware chose for the session."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, MembershipToken):
        return auth.membership
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return getattr(request, "membership", None)
