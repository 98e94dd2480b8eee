"""Attach the acting membership to every HTML request, resolved lazily (one query, only when used)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from tenants.context import resolve_acting_membership


class ActingMembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = SimpleLazyObject(lambda: resolve_acting_membership(request))  # type: ignore[attr-defined]
        return self.get_response(request)
