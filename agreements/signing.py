"""Signable agreement records and their rules, in one place (part11.signatures does the signing).

- A quality agreement in review is approved by a QA approver of the sponsor (``approve-sponsor``) **and** of the
  CMO (``approve-cmo``); the second approval makes it approved. Approval needs the checks to pass, or a live
  ``override-checks`` signature over a recorded justification, which its signer may not also use to approve
  alone (two-person rule: the override's signer cannot be the same party's approver).
- A subcontractor is approved by a QA approver of the sponsor (``approve``).
"""

from __future__ import annotations

from typing import Any

from agreements import selectors
from agreements.models import QualityAgreement, SubcontractorConsent
from part11.signatures import Signable, SignatureRule, register
from tenants.permissions import Capability


def _in_review(agreement: QualityAgreement) -> str | None:
    if agreement.state != QualityAgreement.State.IN_REVIEW:
        return f"Version {agreement.number} is {agreement.get_state_display().lower()}; only a version in review is " \
               "signed."
    return None


def _checks_pass_or_overridden(agreement: QualityAgreement) -> str | None:
    from agreements.checks import run_checks
    from part11.signatures import signatures_of

    refusal = _in_review(agreement)
    if refusal:
        return refusal
    findings = run_checks(agreement)
    if not findings:
        return None
    overridden = agreement.checks_override and signatures_of(agreement).filter(
        step="override-checks", voided_at__isnull=True).exists()
    if overridden:
        return None
    return (f"{len(findings)} check(s) fail (first: {findings[0].message}) — fix them, or have a QA approver "
            "override them with a signed justification.")


def _override_allowed(agreement: QualityAgreement) -> str | None:
    from part11.signatures import signatures_of

    refusal = _in_review(agreement)
    if refusal:
        return refusal
    if not agreement.checks_override:
        return "Record the justification for the override first."
    approvals = signatures_of(agreement).filter(step__startswith="approve-", voided_at__isnull=True)
    if approvals.exists():
        return "An approval is already signed; return the version to draft to override its checks."
    return None


AGREEMENT_RULES = (
    SignatureRule(step="override-checks", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                  label="Override failed checks (with justification)", precondition=_override_allowed),
    SignatureRule(step="approve-sponsor", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                  label="Approve for the sponsor's quality unit", signer_organization=lambda a: a.sponsor_id,
                  precondition=_checks_pass_or_overridden),
    SignatureRule(step="approve-cmo", meaning="approved", capability=Capability.APPROVE_QUALITY_RECORDS,
                  label="Approve for the CMO's quality unit", signer_organization=lambda a: a.cmo_id,
                  precondition=_checks_pass_or_overridden),
)


def agreement_content(agreement: QualityAgreement) -> dict[str, Any]:
    """Everything the parties agree to: terms, sections, RACI, windows, data sharing (the signed content)."""
    return {
        "record": "quality_agreement", "id": agreement.pk, "partnership": agreement.partnership_id,
        "number": agreement.number, "title": agreement.title,
        "effective_from": agreement.effective_from.isoformat() if agreement.effective_from else None,
        "review_interval_months": agreement.review_interval_months, "release_model": agreement.release_model,
        "deviation_closure_days": agreement.deviation_closure_days, "batch_review_days": agreement.batch_review_days,
        "change_sponsor_approval": sorted(agreement.change_sponsor_approval),
        "change_notify_only": sorted(agreement.change_notify_only),
        "change_notice_lead_days": agreement.change_notice_lead_days, "audit_right": agreement.audit_right,
        "audit_cadence_months": agreement.audit_cadence_months, "checks_override": agreement.checks_override,
        "sections": [[s.key, s.body] for s in agreement.sections.order_by("position")],
        "raci": [[r.activity_code, r.sponsor, r.cmo] for r in agreement.raci.order_by("position", "id")],
        "windows": sorted([w.event, w.amount, w.unit, w.calendar] for w in agreement.windows.all()),
        "data_sharing": [[d.data, d.format, d.frequency] for d in agreement.data_sharing.order_by("id")],
    }


def consent_content(consent: SubcontractorConsent) -> dict[str, Any]:
    return {"record": "subcontractor_consent", "id": consent.pk, "partnership": consent.partnership_id,
            "subcontractor": consent.subcontractor, "site": consent.site, "country": consent.country,
            "activities": sorted(consent.activities)}


def _consent_proposed(consent: SubcontractorConsent) -> str | None:
    if consent.state != SubcontractorConsent.State.PROPOSED:
        return f"This subcontractor is {consent.get_state_display().lower()}."
    return None


def _on_agreement_signed(agreement: QualityAgreement, signature: Any) -> None:
    from agreements.services import on_agreement_signed

    on_agreement_signed(agreement, signature)


def _on_consent_signed(consent: SubcontractorConsent, signature: Any) -> None:
    from agreements.services import on_consent_signed

    on_consent_signed(consent, signature)


register(Signable(model=QualityAgreement, selector=selectors.agreement_list, canonical=agreement_content,
                  rules=AGREEMENT_RULES, on_signed=_on_agreement_signed), label="Quality agreement")
register(Signable(model=SubcontractorConsent, selector=selectors.consent_list, canonical=consent_content,
                  rules=(SignatureRule(step="approve", meaning="approved",
                                       capability=Capability.APPROVE_QUALITY_RECORDS,
                                       label="Consent to this subcontractor",
                                       signer_organization=lambda c: c.sponsor_id,
                                       precondition=_consent_proposed),),
                  on_signed=_on_consent_signed), label="Subcontractor consent")
