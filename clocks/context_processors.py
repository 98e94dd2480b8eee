from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from clocks import selectors


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the top bar's bell, counted only when a page shows the bell."""
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(membership=membership))}
