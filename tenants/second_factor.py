"""Optional TOTP second factor (django-otp), required for QA approvers when their organization switches it on.

- Anyone may enrol a TOTP device; once they have a confirmed one, every login asks for its code.
- When the acting organization requires it, a QA approver without a verified second factor can do nothing but
  enrol (pages) or gets 403 ``second_factor_required`` (API); a token is only issued with a valid code.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import Membership, Organization, SecurityEvent, User
from tenants.permissions import Capability, Role, can

logger = logging.getLogger("qms.security")

#: Paths a person may reach while their second factor is pending.
ALLOWED_WHILE_PENDING = ("/login/", "/logout/", "/account/two-factor/", "/static/", "/healthz", "/readyz")


def required_for(membership: Membership | None) -> bool:
    return bool(membership and membership.organization.require_second_factor
                and membership.role == Role.QA_APPROVER)


def pending(user: Any, membership: Membership | None) -> str | None:
    """Why this session may not act yet: ``verify`` (has a device, code not entered) or ``enrol``; else None."""
    if not user.is_authenticated:
        return None
    verified = getattr(user, "is_verified", lambda: False)()
    if verified:
        return None
    if user_has_device(user):
        return "verify"
    if required_for(membership):
        return "enrol"
    return None


def verify(user: User, code: str) -> TOTPDevice | None:
    """The confirmed device that accepts ``code`` (rate-limited by django-otp's throttling), or None."""
    code = (code or "").strip().replace(" ", "")
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


@transaction.atomic
def enrolment_start(*, user: User) -> TOTPDevice:
    """An unconfirmed device to enrol (reused until confirmed, so reloading the page keeps the same secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def enrolment_confirm(*, user: User, code: str) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError({"code": "Start the enrolment again: no device is waiting for confirmation."})
    if not device.verify_token((code or "").strip()):
        raise ValidationError({"code": "That code is not valid. Check the time on your phone and try again."})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    logger.info("second factor enrolled for %s", user.username)
    return device


@transaction.atomic
def enrolment_remove(*, user: User, membership: Membership | None, code: str) -> None:
    """Turn the second factor off, with a current code, unless the organization requires it for this role."""
    if required_for(membership):
        raise ValidationError({"code": "Your organization requires a second factor for your role; it cannot be "
                                       "removed."})
    if verify(user, code) is None:
        raise ValidationError({"code": "That code is not valid."})
    TOTPDevice.objects.filter(user=user).delete()
    logger.info("second factor removed by %s", user.username)


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as a standalone SVG image data URI (CSP allows data: images; no script involved)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def secret_text(device: TOTPDevice) -> str:
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@transaction.atomic
def organization_second_factor_set(*, membership: Membership, organization: Organization, required: bool,
                                   reason: str) -> Organization:
    if not can(membership, Capability.MANAGE_MEMBERS):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not change security settings.")
    if organization.pk != membership.organization_id:
        raise PermissionDenied("This organization belongs to a partner; its settings are read-only for you.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the setting changes; the reason is recorded."})
    from tenants import rls

    if organization.require_second_factor != required:
        organization.require_second_factor = required
        # Organizations are platform-managed rows: only this one field, by this org's admin, in a named context.
        with rls.system_context(f"org admin {membership.user_id} sets second factor on {organization.slug}"):
            organization.save(update_fields=["require_second_factor"])
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.SECOND_FACTOR_POLICY, organization=organization, actor=membership.user,
            subject=organization.slug, reason=reason.strip(), detail={"required": required},
        )
    return organization


def issuer() -> str:
    return settings.OTP_TOTP_ISSUER
