from typing import Any

from django.http import HttpRequest

from tenants.permissions import Capability, can
from tenants.selectors import memberships_of_user


def acting_membership(request: HttpRequest) -> dict[str, Any]:
    """Navigation needs the acting membership, the others the user may switch to, and what the role allows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    membership = membership if membership else None  # unwrap a lazy None
    return {
        "acting_membership": membership,
        "user_memberships": list(memberships_of_user(user=user)),
        "perms_can": {cap.value: can(membership, cap) for cap in Capability},
    }
