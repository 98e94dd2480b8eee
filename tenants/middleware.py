"""Every request runs in one transaction, with its row-level-security context set inside that transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import SimpleTemplateResponse
from django.urls import reverse

from part11.audit import set_request_id
from tenants import rls, second_factor
from tenants.context import membership_for_session

logger = logging.getLogger("qms.security")


class TenantContextMiddleware:
    """Open the request's transaction, set the acting context (``SET LOCAL``), render, commit or roll back.

    - A browser session acts through the membership chosen in the session; an API token re-activates the
      context for its own membership when DRF authenticates it (``tenants.auth``), inside this transaction.
    - Template responses are rendered here, inside the transaction, so template-time queries see the context.
    - An exception raised by a view rolls everything back, as ``ATOMIC_REQUESTS`` would.
    - The Django admin, for platform superusers only, runs in the named system context.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    #: Probes answer without a tenant transaction: /healthz must not touch the database at all.
    exempt_paths = ("/healthz", "/readyz")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in self.exempt_paths:
            return self.get_response(request)
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with transaction.atomic():
            set_request_id(request_id)  # every audit event of this request carries it
            with rls.scoped(rls.Context()):
                response = self._handle(request)
            if getattr(request, "_qms_view_raised", False):
                transaction.set_rollback(True)
        response["X-Request-ID"] = request_id
        return response

    def _handle(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            if user.is_superuser and user.is_staff and request.path.startswith("/admin/"):
                return self._admin(request)
            rls.activate(user_id=user.pk)
            membership = membership_for_session(user=user, session=request.session)
            if membership is not None:
                rls.activate_membership(membership)
            request.membership = membership  # type: ignore[attr-defined]
            waiting = second_factor.pending(user, membership)
            if waiting and not request.path.startswith(second_factor.ALLOWED_WHILE_PENDING):
                return self._second_factor_first(request, waiting)
        return self._respond(request)

    @staticmethod
    def _second_factor_first(request: HttpRequest, waiting: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            message = ("Enter your second-factor code first (POST /login/verify/)." if waiting == "verify" else
                       "Your organization requires QA approvers to enrol a second factor (/account/two-factor/).")
            return JsonResponse({"error": {"code": "second_factor_required", "message": message, "fields": {}}},
                                status=403)
        target = reverse("verify-second-factor" if waiting == "verify" else "two-factor")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")

    def _admin(self, request: HttpRequest) -> HttpResponse:
        with rls.system_context(f"django admin: {request.user.get_username()} {request.method} {request.path}"):
            return self._respond(request)

    def _respond(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Roll back once the error page (which may query, e.g. for the navigation) has been rendered.
        request._qms_view_raised = True  # type: ignore[attr-defined]
