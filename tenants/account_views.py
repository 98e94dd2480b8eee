"""Pages about the person rather than the organization: second-factor enrolment and verification, and the
organization security setting for its admin. Thin: they call ``tenants.second_factor``."""

from __future__ import annotations

from typing import Any

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import second_factor
from tenants.context import authenticated_user
from tenants.permissions import Capability, can


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return reverse("home")
    return target


@login_required
@require_http_methods(["GET", "POST"])
def verify_second_factor(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    error = None
    if request.method == "POST":
        device = second_factor.verify(user, request.POST.get("code", ""))
        if device is not None:
            django_otp.login(request, device)
            return HttpResponseRedirect(_next(request))
        error = "That code is not valid. Codes change every 30 seconds; enter the current one."
    return render(request, "registration/verify_second_factor.html",
                  {"error": error, "next": _next(request)}, status=200)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    error = None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        try:
            device = second_factor.enrolment_confirm(user=user, code=request.POST.get("code", ""))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            django_otp.login(request, device)
            messages.success(request, "Second factor enrolled: future logins will ask for a code.")
            return HttpResponseRedirect(_next(request))
    if request.method == "POST" and request.POST.get("action") == "remove" and confirmed is not None:
        try:
            second_factor.enrolment_remove(user=user, membership=getattr(request, "membership", None),
                                           code=request.POST.get("code", ""))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Second factor removed.")
            return redirect("two-factor")
    context: dict[str, Any] = {"confirmed": confirmed, "error": error, "next": _next(request),
                               "required": second_factor.required_for(getattr(request, "membership", None))}
    if confirmed is None:
        device = second_factor.enrolment_start(user=user)
        context.update(qr=second_factor.qr_data_uri(device), secret=second_factor.secret_text(device),
                       issuer=second_factor.issuer())
    return render(request, "tenants/two_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def organization_security(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    if membership is None or not can(membership, Capability.MANAGE_MEMBERS):
        raise PermissionDenied("Only an org admin may change the organization's security settings.")
    organization = membership.organization
    error = None
    if request.method == "POST":
        try:
            second_factor.organization_second_factor_set(
                membership=membership, organization=organization,
                required=request.POST.get("require_second_factor") == "on", reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Security setting saved.")
            return redirect("organization-security")
    return render(request, "tenants/organization_security.html", {"organization": organization, "error": error})
