"""Electronic signatures: one service every app uses (21 CFR 11.50, 11.70, 11.100, 11.200, 11.300).

An app registers each signable record type once (``register``) with its selector (who may see it), a function
returning its canonical content, and its signature rules per workflow step: which meaning, which capability, and
which earlier meanings must have been given by a *different* person (the two-person rule).

Signing re-checks the signer's password (and second factor where they have one or their organization requires
it) every time; a failure counts toward lockout (django-axes) and is recorded. The signature stores the printed
name, the UTC time, the meaning and the SHA-256 of the canonical content of the exact version signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_otp import user_has_device

from part11.canonical import canonical_json
from part11.models import Signature
from tenants import second_factor
from tenants.models import Membership, SecurityEvent, StoredFile
from tenants.permissions import Capability, can


@dataclass(frozen=True)
class SignatureRule:
    step: str
    meaning: str
    capability: Capability
    label: str
    #: Meanings that must already be signed (live) before this step.
    requires: tuple[str, ...] = ()
    #: Meanings whose signer may not sign this step too (author ≠ approver).
    different_from: tuple[str, ...] = ()
    #: The signer must first have marked the record's audit trail reviewed up to its latest change.
    requires_audit_review: bool = False
    #: The organization whose member signs this step (a jointly owned record: "the sponsor's approval").
    signer_organization: Callable[[Any], int] | None = None
    #: Why the record cannot be signed for this step in its current state (None: it can).
    precondition: Callable[[Any], str | None] | None = None
    #: The user who may not sign this step (the record's author: author ≠ approver), and what to tell them.
    not_by: Callable[[Any], int | None] | None = None
    not_by_reason: str = "The author of this record may not approve it (author ≠ approver)."


@dataclass(frozen=True)
class Signable:
    model: type[models.Model]
    selector: Callable[..., QuerySet[Any]]
    canonical: Callable[[Any], dict[str, Any]]
    rules: tuple[SignatureRule, ...] = field(default_factory=tuple)
    #: Runs in the signing transaction after the signature is stored (e.g. the last approval moves the state).
    on_signed: Callable[[Any, Signature], None] | None = None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def rule(self, step: str) -> SignatureRule:
        for rule in self.rules:
            if rule.step == step:
                return rule
        raise ValidationError({"step": f"Unknown signature step {step!r}."})


REGISTRY: dict[str, Signable] = {}
#: The record types that can be signed, exported to PDF and audit-reviewed (one OpenAPI enum).
SIGNABLE_CHOICES = [("tenants_partnership", "Partnership")]


def register(signable: Signable, label: str | None = None) -> None:
    REGISTRY[signable.table] = signable
    if label and signable.table not in dict(SIGNABLE_CHOICES):
        SIGNABLE_CHOICES.append((signable.table, label))


def signable_for(table: str) -> Signable:
    try:
        return REGISTRY[table]
    except KeyError:
        raise ValidationError({"record_type": f"Records of type {table!r} cannot be signed."}) from None


def content_of(record: models.Model) -> dict[str, Any]:
    """The record's canonical content, with the SHA-256 of each attached file."""
    signable = signable_for(record._meta.db_table)
    content = signable.canonical(record)
    content["attachments"] = sorted(StoredFile.objects.filter(
        record_table=signable.table, record_id=record.pk).values_list("sha256", flat=True))
    return content


def content_hash(record: models.Model) -> str:
    return hashlib.sha256(canonical_json(content_of(record)).encode()).hexdigest()


def signatures_of(record: models.Model) -> QuerySet[Signature]:
    return Signature.objects.filter(record_table=record._meta.db_table, record_id=record.pk).order_by(
        "signed_at", "id")


def _check_credentials(request: Any, membership: Membership, password: str, otp: str | None) -> None:
    user = membership.user
    ok = authenticate(request, username=user.username, password=password or "") is not None
    if ok and (user_has_device(user) or second_factor.required_for(membership)):
        ok = bool(otp) and second_factor.verify(user, otp or "") is not None
        if not ok:
            _failed(membership, "second-factor code wrong or missing")
            raise ValidationError({"otp": "Enter the current code from your authenticator app."})
    if not ok:
        _failed(membership, "password wrong")
        raise ValidationError({"password": "The password is not correct; the attempt is recorded."})


def _failed(membership: Membership, why: str) -> None:
    """Record a failed attempt. A refused signature answers 400 without raising out of the view, so the
    request's transaction commits and this row (like django-axes' failure count) is kept."""
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.SIGNATURE_FAILED, organization_id=membership.organization_id,
                                 actor=membership.user, subject=membership.user.username, reason=why)


def sign(*, request: Any, membership: Membership, record: models.Model, step: str, password: str,
         otp: str | None = None) -> Signature:
    """Sign ``record`` for ``step`` as ``membership`` after re-checking the password (and second factor)."""
    signable = signable_for(record._meta.db_table)
    rule = signable.rule(step)
    _check_rule(signable, rule, membership, record)
    _check_credentials(request, membership, password, otp)
    with transaction.atomic():
        return _store(signable, rule, membership, record)


def sign_new(*, request: Any, membership: Membership, create: Callable[[], models.Model], step: str,
             password: str, otp: str | None = None) -> Signature:
    """Create a record that exists only with its signature (a batch disposition) and sign it, atomically.

    The password (and second factor) is checked first: a refused signature leaves nothing behind but the failed
    attempt, which counts toward lockout. ``create`` runs inside the signing transaction; the caller has already
    checked what it can before asking for credentials (role, state), and the rule is checked again on the record.
    """
    _check_credentials(request, membership, password, otp)
    with transaction.atomic():
        record = create()
        signable = signable_for(record._meta.db_table)
        rule = signable.rule(step)
        _check_rule(signable, rule, membership, record)
        return _store(signable, rule, membership, record)


def _check_rule(signable: Signable, rule: SignatureRule, membership: Membership, record: models.Model) -> None:
    if not signable.selector(membership=membership).filter(pk=record.pk).exists():
        raise PermissionDenied("You cannot see this record.")
    if not can(membership, rule.capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not sign with the meaning "
                               f"“{rule.meaning}”.")
    if rule.signer_organization is not None and rule.signer_organization(record) != membership.organization_id:
        raise PermissionDenied(f"“{rule.label}” is signed by the other party's quality unit.")
    if rule.precondition is not None and (refusal := rule.precondition(record)):
        raise ValidationError({"step": refusal})
    if rule.not_by is not None and rule.not_by(record) == membership.user_id:
        raise ValidationError({"step": rule.not_by_reason})


def _store(signable: Signable, rule: SignatureRule, membership: Membership, record: models.Model) -> Signature:
    """The signature and its effects, in the caller's transaction, after the credentials were checked."""
    live = signatures_of(record).filter(voided_at__isnull=True)
    missing = [m for m in rule.requires if not live.filter(meaning=m).exists()]
    if missing:
        raise ValidationError({"step": f"This step needs a live “{missing[0]}” signature first."})
    if live.filter(meaning__in=rule.different_from, signer=membership.user).exists():
        raise ValidationError({"step": "The same person may not sign both steps (two-person rule)."})
    if live.filter(step=rule.step, signer=membership.user).exists():
        raise ValidationError({"step": "You have already signed this step."})
    if rule.requires_audit_review and not audit_trail_reviewed(membership=membership, record=record):
        raise ValidationError({"step": "Review the record's audit trail first (History → Mark audit trail "
                                       "reviewed): it changed since you last reviewed it."})
    content = content_of(record)
    signature = Signature.objects.create(
        organization_id=membership.organization_id, record_table=signable.table, record_id=record.pk,
        step=rule.step, meaning=rule.meaning, signer=membership.user, signer_membership=membership,
        printed_name=membership.user.printed_name, signed_at=timezone.now(),
        content_hash=hashlib.sha256(canonical_json(content).encode()).hexdigest(), content=content,
    )
    if signable.on_signed is not None:
        signable.on_signed(record, signature)
    return signature


@dataclass(frozen=True)
class Verification:
    signature: Signature
    current_hash: str

    @property
    def matches(self) -> bool:
        return self.signature.voided_at is None and self.current_hash == self.signature.content_hash

    @property
    def verdict(self) -> str:
        if self.signature.voided_at is not None:
            return (f"VOID: {self.signature.void_reason} at "
                    f"{self.signature.voided_at.astimezone(dt.UTC):%d %b %Y %H:%M:%S} UTC.")
        if self.current_hash == self.signature.content_hash:
            return "Valid: the record still matches exactly what was signed."
        return "Does not match: the record changed since it was signed."


def verify(signature: Signature, record: models.Model) -> Verification:
    return Verification(signature=signature, current_hash=content_hash(record))


def latest_event_id(record: models.Model) -> int:
    from part11.models import AuditEvent

    return AuditEvent.objects.filter(record_table=record._meta.db_table, record_id=record.pk).aggregate(
        latest=models.Max("id"))["latest"] or 0


def audit_trail_reviewed(*, membership: Membership, record: models.Model) -> bool:
    """True when ``membership``'s person reviewed the record's trail up to its latest change."""
    from part11.models import AuditReview

    reviewed = AuditReview.objects.filter(record_table=record._meta.db_table, record_id=record.pk,
                                          reviewer=membership.user).aggregate(through=models.Max(
                                              "reviewed_through_event"))["through"] or 0
    return reviewed >= latest_event_id(record)


def mark_audit_trail_reviewed(*, membership: Membership, record: models.Model) -> Any:
    from part11.models import AuditReview

    signable = signable_for(record._meta.db_table)
    if not signable.selector(membership=membership).filter(pk=record.pk).exists():
        raise PermissionDenied("You cannot see this record.")
    if not (can(membership, Capability.REVIEW_QUALITY_RECORDS) or can(membership, Capability.APPROVE_QUALITY_RECORDS)):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) does not review audit trails.")
    return AuditReview.objects.create(
        organization_id=membership.organization_id, record_table=signable.table, record_id=record.pk,
        reviewer=membership.user, reviewer_membership=membership, reviewed_through_event=latest_event_id(record),
        reviewed_at=timezone.now(),
    )
