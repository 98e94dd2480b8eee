"""Reads for agreements, and the typed terms every other app obeys (DESIGN.md §3.5).

Only the two parties of a partnership see its agreements and consent register (no grant reaches them). Other apps
call :func:`effective_terms` from their own services (already in the acting organization's context) to set
deadlines, approvals and release steps; with no effective agreement they get conservative defaults and a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from agreements.catalogue import (
    DEFAULT_CLOSURE_DAYS,
    DEFAULT_NOTICE_LEAD_DAYS,
    DEFAULT_NOTIFY_ONLY,
    DEFAULT_SPONSOR_APPROVAL,
    DEFAULT_WINDOWS,
    NotificationEvent,
    ReleaseModel,
    Window,
)
from agreements.models import GmpActivity, QualityAgreement, SubcontractorConsent
from clocks.rules import Rule, StageKind, StageSpec
from tenants.models import Membership, Partnership

NO_AGREEMENT = "No effective quality agreement: conservative default terms apply."


def agreement_list(*, membership: Membership) -> QuerySet[QualityAgreement]:
    org = membership.organization_id
    return (QualityAgreement.objects.filter(Q(sponsor_id=org) | Q(cmo_id=org))
            .select_related("sponsor", "cmo", "partnership").order_by("partnership_id", "-number"))


def consent_list(*, membership: Membership) -> QuerySet[SubcontractorConsent]:
    org = membership.organization_id
    return (SubcontractorConsent.objects.filter(Q(sponsor_id=org) | Q(cmo_id=org))
            .select_related("sponsor", "cmo", "created_by"))


def consent_list_for(partnership_id: int) -> QuerySet[SubcontractorConsent]:
    """The register of one partnership (the caller already holds something of it that it may see)."""
    return SubcontractorConsent.objects.filter(partnership_id=partnership_id).order_by("subcontractor", "site")


def activity_catalogue(*, membership: Membership) -> QuerySet[GmpActivity]:
    """The standard activities and the organization's own."""
    return GmpActivity.objects.filter(Q(organization__isnull=True) | Q(organization_id=membership.organization_id))


def effective_agreement(partnership: Partnership | int, on: dt.date | None = None) -> QualityAgreement | None:
    """The version in force on ``on`` (today): effective from on or before it, not yet superseded or ended."""
    on = on or dt.date.today()
    partnership_id = partnership if isinstance(partnership, int) else partnership.pk
    return (QualityAgreement.objects.filter(
        partnership_id=partnership_id, effective_from__lte=on,
        state__in=[QualityAgreement.State.EFFECTIVE, QualityAgreement.State.SUPERSEDED,
                   QualityAgreement.State.TERMINATED])
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=on))
        .order_by("-effective_from", "-number").first())


@dataclass(frozen=True)
class Terms:
    """The typed terms of a partnership on a date."""

    agreement: QualityAgreement | None
    windows: dict[str, Window]
    release_model: str
    deviation_closure_days: int
    batch_review_days: int
    change_sponsor_approval: frozenset[str]
    change_notify_only: frozenset[str]
    change_notice_lead_days: int
    audit_right: bool
    audit_cadence_months: int | None
    raci: dict[str, tuple[str, str]] = field(default_factory=dict)
    approved_subcontractors: tuple[SubcontractorConsent, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.agreement is None

    @property
    def warning(self) -> str | None:
        return NO_AGREEMENT if self.agreement is None else None

    @property
    def source(self) -> str:
        return "conservative defaults (no effective agreement)" if self.agreement is None else str(self.agreement)

    def notification_rule(self, event: str, *, start_event: str, title: str | None = None) -> Rule:
        """The clock for telling the sponsor of ``event``, from this agreement's window for it."""
        window = self.windows.get(event) or DEFAULT_WINDOWS[event]
        label = NotificationEvent(event).label
        stages = (StageSpec(StageKind.REMINDER, -1, window.unit) if window.amount > 1 else None,
                  StageSpec(StageKind.DUE), StageSpec(StageKind.ESCALATION, 1, window.unit))
        return Rule(code=f"notify_sponsor_{event}", title=title or f"Notify sponsor: {label}", amount=window.amount,
                    unit=window.unit, calendar=window.calendar, start_event=start_event,
                    stages=tuple(s for s in stages if s is not None), extendable=False)


def effective_terms(partnership: Partnership | int, on: dt.date | None = None) -> Terms:
    agreement = effective_agreement(partnership, on)
    partnership_id = partnership if isinstance(partnership, int) else partnership.pk
    consents = tuple(SubcontractorConsent.objects.filter(partnership_id=partnership_id,
                                                         state=SubcontractorConsent.State.APPROVED))
    if agreement is None:
        return Terms(agreement=None, windows=dict(DEFAULT_WINDOWS), release_model=ReleaseModel.CMO_THEN_SPONSOR,
                     deviation_closure_days=DEFAULT_CLOSURE_DAYS,
                     batch_review_days=settings.DEFAULT_BATCH_REVIEW_DAYS,  # deployment's default, not the catalogue's
                     change_sponsor_approval=frozenset(DEFAULT_SPONSOR_APPROVAL),
                     change_notify_only=frozenset(DEFAULT_NOTIFY_ONLY),
                     change_notice_lead_days=DEFAULT_NOTICE_LEAD_DAYS, audit_right=True, audit_cadence_months=12,
                     approved_subcontractors=consents)
    windows = {**DEFAULT_WINDOWS, **{w.event: Window(w.amount, w.unit, w.calendar or None)
                                     for w in agreement.windows.all()}}
    return Terms(
        agreement=agreement, windows=windows,
        release_model=agreement.release_model or ReleaseModel.CMO_THEN_SPONSOR,
        deviation_closure_days=agreement.deviation_closure_days, batch_review_days=agreement.batch_review_days,
        change_sponsor_approval=frozenset(agreement.change_sponsor_approval),
        change_notify_only=frozenset(agreement.change_notify_only),
        change_notice_lead_days=agreement.change_notice_lead_days, audit_right=agreement.audit_right,
        audit_cadence_months=agreement.audit_cadence_months,
        raci={r.activity_code: (r.sponsor, r.cmo) for r in agreement.raci.all()},
        approved_subcontractors=consents,
    )
