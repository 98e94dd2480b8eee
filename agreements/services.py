"""Writes for quality agreements: drafts both parties edit, review, two-party approval, effect, supersession.

Life cycle: draft → in review → approved (a QA approver of the sponsor **and** of the CMO sign, Part 11) →
effective on its date (superseding the version before) → superseded / terminated. Content changes only in draft;
returning a version to draft voids its signatures (database trigger). Approval needs the checks to pass, unless a
QA approver signs an override with a justification first. Every write is a row change the audit trail records,
with the acting person, so "who changed what" in a jointly written record is always answerable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from agreements.catalogue import (
    ACTIVITIES,
    DEFAULT_NOTIFY_ONLY,
    DEFAULT_SPONSOR_APPROVAL,
    DEFAULT_WINDOWS,
    SECTIONS,
    NotificationEvent,
)
from agreements.models import (
    AgreementSection,
    DataSharingTerm,
    GmpActivity,
    NotificationWindow,
    QualityAgreement,
    RaciRow,
    SubcontractorConsent,
)
from clocks import services as clocks
from clocks.calendars import Unit
from clocks.rules import Rule, reminders
from part11.audit import reason_for_change
from qms.errors import StaleWrite
from qms.validation import full_clean_by_field
from qms.versioning import versioned_save
from tenants import rls
from tenants.models import Membership, Partnership
from tenants.permissions import Capability, can

State = QualityAgreement.State
OPEN_STATES = (State.DRAFT, State.IN_REVIEW, State.APPROVED)
TERM_FIELDS = ("title", "effective_from", "review_interval_months", "release_model", "deviation_closure_days",
               "batch_review_days", "change_sponsor_approval", "change_notify_only", "change_notice_lead_days",
               "audit_right", "audit_cadence_months")


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_party(membership: Membership, obj: Any) -> None:
    if membership.organization_id not in obj.owner_organization_ids():
        raise PermissionDenied("Only the two parties of the partnership may change its quality agreement.")


def _require_draft(agreement: QualityAgreement) -> None:
    if agreement.state != State.DRAFT:
        raise ValidationError({"state": f"Version {agreement.number} is {agreement.get_state_display().lower()}; "
                                        "only a draft can be changed (start a new version to amend it)."})


def _touch(agreement: QualityAgreement, expected_version: int | None, precondition: bool = False) -> None:
    """A change to a part of the agreement bumps the agreement's version, so stale editors get 409/412."""
    read = agreement.version if expected_version is None else expected_version
    if not QualityAgreement.objects.filter(pk=agreement.pk, version=read).update(version=F("version") + 1):
        current = QualityAgreement.objects.filter(pk=agreement.pk).values_list("version", flat=True).first()
        raise StaleWrite(current or agreement.version, precondition=precondition)
    agreement.version = read + 1


def _editable(membership: Membership, agreement: QualityAgreement) -> None:
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_party(membership, agreement)
    _require_draft(agreement)


# --- Creation -----------------------------------------------------------------------------------------------


@transaction.atomic
def agreement_create(*, membership: Membership, partnership: Partnership, title: str = "",
                     effective_from: dt.date | None = None) -> QualityAgreement:
    """A new version: a copy of the one in force, or the template (every section, the activity catalogue, the
    conservative windows) for a partnership's first agreement. One open version at a time."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if membership.organization_id not in (partnership.sponsor_id, partnership.cmo_id):
        raise PermissionDenied("Only the two parties of the partnership may write its quality agreement.")
    open_version = QualityAgreement.objects.filter(partnership=partnership, state__in=OPEN_STATES).first()
    if open_version is not None:
        raise ValidationError({"partnership": f"Version {open_version.number} is still "
                                              f"{open_version.get_state_display().lower()}: finish or withdraw it "
                                              "before starting another."})
    previous = (QualityAgreement.objects.filter(partnership=partnership, state=State.EFFECTIVE).first()
                or QualityAgreement.objects.filter(partnership=partnership).order_by("-number").first())
    number = (QualityAgreement.objects.filter(partnership=partnership).aggregate(n=Max("number"))["n"] or 0) + 1
    agreement = QualityAgreement(
        partnership=partnership, sponsor_id=partnership.sponsor_id, cmo_id=partnership.cmo_id, number=number,
        title=title.strip() or (previous.title if previous else
                                f"Quality agreement {partnership.sponsor.name} – {partnership.cmo.name}"),
        effective_from=effective_from, created_by=membership.user, supersedes=previous,
    )
    if previous is not None:
        for name in TERM_FIELDS[2:]:
            setattr(agreement, name, getattr(previous, name))
    else:
        agreement.change_sponsor_approval = list(DEFAULT_SPONSOR_APPROVAL)
        agreement.change_notify_only = list(DEFAULT_NOTIFY_ONLY)
    full_clean_by_field(agreement, exclude=["partnership", "sponsor", "cmo", "created_by", "supersedes"])
    agreement.save()
    if previous is not None:
        _copy_content(previous, agreement)
    else:
        _template(agreement, partnership)
    return agreement


def _template(agreement: QualityAgreement, partnership: Partnership) -> None:
    AgreementSection.objects.bulk_create([
        AgreementSection(agreement=agreement, key=s.key, title=s.title, body="", position=i)
        for i, s in enumerate(SECTIONS)])
    # The standard catalogue comes from code (agreements/catalogue.py), the parties' own activities from the table.
    activities = [(a.code, a.name, a.critical) for a in ACTIVITIES] + [
        (a.code, a.name, a.critical) for a in GmpActivity.objects.filter(
            organization_id__in=[partnership.sponsor_id, partnership.cmo_id]).order_by("position", "name")]
    RaciRow.objects.bulk_create([
        RaciRow(agreement=agreement, activity_code=code, activity_name=name, critical=critical, position=i)
        for i, (code, name, critical) in enumerate(activities)])
    NotificationWindow.objects.bulk_create([
        NotificationWindow(agreement=agreement, event=event, amount=w.amount, unit=w.unit, calendar=w.calendar or "")
        for event, w in DEFAULT_WINDOWS.items()])


def _copy_content(source: QualityAgreement, target: QualityAgreement) -> None:
    AgreementSection.objects.bulk_create([
        AgreementSection(agreement=target, key=s.key, title=s.title, body=s.body, position=s.position)
        for s in source.sections.all()])
    RaciRow.objects.bulk_create([
        RaciRow(agreement=target, activity_code=r.activity_code, activity_name=r.activity_name, critical=r.critical,
                sponsor=r.sponsor, cmo=r.cmo, position=r.position) for r in source.raci.all()])
    NotificationWindow.objects.bulk_create([
        NotificationWindow(agreement=target, event=w.event, amount=w.amount, unit=w.unit, calendar=w.calendar)
        for w in source.windows.all()])
    DataSharingTerm.objects.bulk_create([
        DataSharingTerm(agreement=target, data=d.data, format=d.format, frequency=d.frequency)
        for d in source.data_sharing.all()])


# --- Editing a draft ----------------------------------------------------------------------------------------


@transaction.atomic
def agreement_update(*, membership: Membership, agreement: QualityAgreement, expected_version: int | None = None,
                     precondition: bool = False, **changes: Any) -> QualityAgreement:
    _editable(membership, agreement)
    unknown = set(changes) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    changed = [name for name, value in changes.items() if getattr(agreement, name) != value]
    for name in changed:
        setattr(agreement, name, changes[name])
    full_clean_by_field(agreement, exclude=["partnership", "sponsor", "cmo", "created_by", "supersedes"])
    versioned_save(agreement, changed, expected_version, precondition)
    return agreement


@transaction.atomic
def section_update(*, membership: Membership, agreement: QualityAgreement, key: str, body: str,
                   expected_version: int | None = None, precondition: bool = False) -> AgreementSection:
    _editable(membership, agreement)
    section = AgreementSection.objects.filter(agreement=agreement, key=key).first()
    if section is None:
        raise ValidationError({"key": f"No section {key!r} in this agreement."})
    if len(body) > 100_000:
        raise ValidationError({"body": "A section holds at most 100,000 characters."})
    _touch(agreement, expected_version, precondition)
    if section.body != body:
        section.body = body
        section.save(update_fields=["body"])
    return section


@transaction.atomic
def raci_update(*, membership: Membership, agreement: QualityAgreement, rows: Mapping[str, tuple[str, str]],
                expected_version: int | None = None, precondition: bool = False) -> list[RaciRow]:
    """Set the R/A/C/I letters of each party for the activities named in ``rows`` ({code: (sponsor, cmo)})."""
    _editable(membership, agreement)
    current = {r.activity_code: r for r in agreement.raci.all()}
    errors: dict[str, str] = {}
    changed = []
    for code, (sponsor_raw, cmo_raw) in rows.items():
        row = current.get(code)
        if row is None:  # an activity of the catalogue (standard or a party's own) joins the matrix
            try:
                row = current[code] = raci_add_activity(membership=membership, agreement=agreement, code=code)
            except ValidationError:
                errors[f"raci.{code}"] = "No such activity in this agreement or in the catalogue."
                continue
            agreement.refresh_from_db(fields=["version"])
            expected_version = None if expected_version is None else expected_version + 1
        sponsor, cmo = _letters(sponsor_raw), _letters(cmo_raw)
        for party, letters in (("sponsor", sponsor), ("cmo", cmo)):
            if letters is None:
                errors[f"raci.{code}.{party}"] = "Use the letters R, A, C and I, each at most once."
        if sponsor is not None and cmo is not None and (row.sponsor, row.cmo) != (sponsor, cmo):
            row.sponsor, row.cmo = sponsor, cmo
            changed.append(row)
    if errors:
        raise ValidationError(errors)
    _touch(agreement, expected_version, precondition)
    RaciRow.objects.bulk_update(changed, ["sponsor", "cmo"])
    return list(agreement.raci.all())


def _letters(value: str) -> str | None:
    letters = "".join((value or "").upper().split()).replace(",", "").replace("/", "")
    if len(set(letters)) != len(letters) or set(letters) - set("RACI"):
        return None
    return "".join(letter for letter in "RACI" if letter in letters)


@transaction.atomic
def raci_add_activity(*, membership: Membership, agreement: QualityAgreement, code: str) -> RaciRow:
    _editable(membership, agreement)
    standard = {a.code: (a.name, a.critical) for a in ACTIVITIES}
    own = GmpActivity.objects.filter(organization_id__in=agreement.owner_organization_ids(), code=code).first()
    if code not in standard and own is None:
        raise ValidationError({"code": "No activity with this code in the catalogue."})
    if agreement.raci.filter(activity_code=code).exists():
        raise ValidationError({"code": "This activity is already in the RACI matrix."})
    name, critical = (own.name, own.critical) if own is not None else standard[code]
    _touch(agreement, None)
    position = (agreement.raci.aggregate(p=Max("position"))["p"] or 0) + 1
    return RaciRow.objects.create(agreement=agreement, activity_code=code, activity_name=name, critical=critical,
                                  position=position)


@transaction.atomic
def activity_create(*, membership: Membership, code: str, name: str, critical: bool) -> GmpActivity:
    """Extend the organization's RACI catalogue with an activity of its own."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if code in {a.code for a in ACTIVITIES}:
        raise ValidationError({"code": "This is already a standard activity."})
    activity = GmpActivity(organization_id=membership.organization_id, code=code, name=name.strip(),
                           critical=critical, position=200)
    full_clean_by_field(activity)
    activity.save()
    return activity


@transaction.atomic
def windows_update(*, membership: Membership, agreement: QualityAgreement,
                   windows: Mapping[str, tuple[int, str, str]], expected_version: int | None = None,
                   precondition: bool = False) -> list[NotificationWindow]:
    """Set notification windows: {event: (amount, unit, calendar)}; a business-day window needs a calendar."""
    _editable(membership, agreement)
    errors: dict[str, str] = {}
    for event, (amount, unit, calendar) in windows.items():
        if event not in NotificationEvent.values:
            errors[f"windows.{event}"] = "Unknown notification event."
        elif unit not in Unit.values:
            errors[f"windows.{event}.unit"] = f"Choose one of: {', '.join(Unit.values)}."
        elif unit == Unit.BUSINESS_DAYS and not calendar:
            errors[f"windows.{event}.calendar"] = "A business-day window needs a calendar."
        elif not isinstance(amount, int) or not 1 <= amount <= 365:
            errors[f"windows.{event}.amount"] = "A whole number from 1 to 365."
    if errors:
        raise ValidationError(errors)
    _touch(agreement, expected_version, precondition)
    for event, (amount, unit, calendar) in windows.items():
        NotificationWindow.objects.update_or_create(
            agreement=agreement, event=event,
            defaults={"amount": amount, "unit": unit, "calendar": calendar if unit == Unit.BUSINESS_DAYS else ""})
    return list(agreement.windows.all())


@transaction.atomic
def data_sharing_set(*, membership: Membership, agreement: QualityAgreement,
                     terms: Iterable[tuple[str, str, str]]) -> list[DataSharingTerm]:
    """Replace the data-sharing terms: (which data, format, frequency) each."""
    _editable(membership, agreement)
    rows = [DataSharingTerm(agreement=agreement, data=d.strip(), format=f.strip(), frequency=q.strip())
            for d, f, q in terms if d.strip()]
    for row in rows:
        full_clean_by_field(row, exclude=["agreement"])
    _touch(agreement, None)
    agreement.data_sharing.all().delete()
    return DataSharingTerm.objects.bulk_create(rows)


# --- Review and approval --------------------------------------------------------------------------------------


@transaction.atomic
def agreement_submit(*, membership: Membership, agreement: QualityAgreement) -> QualityAgreement:
    """Send a draft for review: content freezes; both QA approvers may now sign."""
    _editable(membership, agreement)
    if not agreement.effective_from:
        raise ValidationError({"effective_from": "Set the date the agreement takes effect before review."})
    agreement.state = State.IN_REVIEW
    versioned_save(agreement, ["state"], None, False)
    return agreement


@transaction.atomic
def agreement_return_to_draft(*, membership: Membership, agreement: QualityAgreement, reason: str) -> QualityAgreement:
    """Back to draft for rework; the database voids the signatures given so far (visibly)."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_party(membership, agreement)
    if agreement.state != State.IN_REVIEW:
        raise ValidationError({"state": "Only a version in review can go back to draft."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why it goes back to draft; it is kept in the audit trail."})
    agreement.state, agreement.checks_override = State.DRAFT, ""
    with reason_for_change(reason.strip()):
        versioned_save(agreement, ["state", "checks_override"], None, False)
    return agreement


@transaction.atomic
def agreement_record_override(*, membership: Membership, agreement: QualityAgreement,
                              justification: str) -> QualityAgreement:
    """Store the justification an override signature will cover (signed next, in the same request)."""
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_party(membership, agreement)
    if agreement.state != State.IN_REVIEW:
        raise ValidationError({"state": "Checks are overridden on a version in review."})
    if len(justification.strip()) < 20:
        raise ValidationError({"justification": "Explain, in at least 20 characters, why approval may go ahead "
                                                "despite the failed checks."})
    agreement.checks_override = justification.strip()
    with reason_for_change(f"checks overridden: {agreement.checks_override}"):
        versioned_save(agreement, ["checks_override"], None, False)
    return agreement


def on_agreement_signed(agreement: QualityAgreement, signature: Any) -> None:
    """Both parties' approvals make the version approved; effective at once if its date has come."""
    from part11.signatures import signatures_of

    if signature.meaning != "approved" or signature.step not in ("approve-sponsor", "approve-cmo"):
        return
    live = set(signatures_of(agreement).filter(voided_at__isnull=True, meaning="approved")
               .values_list("step", flat=True))
    if {"approve-sponsor", "approve-cmo"} <= live:
        agreement.state = State.APPROVED
        versioned_save(agreement, ["state"], None, False)
        if agreement.effective_from and agreement.effective_from <= dt.date.today():
            agreement_activate(agreement=agreement)


REVIEW_RULE_CODE = "agreement_periodic_review"


@transaction.atomic
def agreement_activate(*, agreement: QualityAgreement, today: dt.date | None = None) -> QualityAgreement:
    """Make an approved version effective (its date has come): the previous one is superseded the same day, and
    the periodic review gets its clock. Runs for either party, or for the daily task: bookkeeping across both
    parties' rows, so in the named system context."""
    today = today or dt.date.today()
    if agreement.state != State.APPROVED or not agreement.effective_from or agreement.effective_from > today:
        raise ValidationError({"state": "Only an approved version whose effective date has come becomes effective."})
    with rls.system_context(f"agreement {agreement.pk} takes effect: supersede the previous version"):
        for previous in QualityAgreement.objects.filter(partnership_id=agreement.partnership_id,
                                                        state=State.EFFECTIVE).exclude(pk=agreement.pk):
            previous.state, previous.effective_until = State.SUPERSEDED, agreement.effective_from
            versioned_save(previous, ["state", "effective_until"], None, False)
            _close_review_clock(previous, "superseded by a new version")
        agreement.state = State.EFFECTIVE
        agreement.next_review_date = agreement.effective_from + relativedelta(months=agreement.review_interval_months)
        versioned_save(agreement, ["state", "next_review_date"], None, False)
        _start_review_clock(agreement)
    return agreement


def _start_review_clock(agreement: QualityAgreement) -> None:
    effective_from, review = agreement.effective_from, agreement.next_review_date
    if effective_from is None or review is None:  # agreement_activate set both just before
        raise ValidationError({"effective_from": "An agreement takes effect on a date."})
    days = (review - effective_from).days
    rule = Rule(code=REVIEW_RULE_CODE, title="Quality agreement periodic review", amount=days,
                unit=Unit.CALENDAR_DAYS, calendar=None, start_event="agreement effective",
                stages=reminders(60, 30, 7, unit=Unit.CALENDAR_DAYS, escalate=(7, 30)))
    start = dt.datetime.combine(effective_from, dt.time(12), tzinfo=dt.UTC)
    clocks.deadline_create(organization_id=agreement.sponsor_id, record=agreement,
                           subject_label=f"{agreement} ({agreement.partnership})", rule=rule, starts_at=start,
                           audience=[clocks.Audience(agreement.cmo_id)])


def _close_review_clock(agreement: QualityAgreement, reason: str) -> None:
    from clocks.models import Deadline

    for deadline in Deadline.objects.filter(record_table=agreement._meta.db_table, record_id=agreement.pk,
                                            rule_code=REVIEW_RULE_CODE, completed_at__isnull=True,
                                            state__in=[Deadline.State.OPEN, Deadline.State.MISSED]):
        if deadline.state == Deadline.State.OPEN:
            clocks.deadline_complete(deadline=deadline, at=timezone.now())
        else:
            clocks.deadline_cancel(deadline=deadline, reason=reason)


def activate_due(today: dt.date | None = None) -> int:
    """Daily: approved versions whose effective date has come take effect (the beat task calls this)."""
    today = today or dt.date.today()
    count = 0
    with transaction.atomic(), rls.system_context("agreements: activate versions whose effective date has come"):
        for agreement in QualityAgreement.objects.filter(state=State.APPROVED, effective_from__lte=today):
            agreement_activate(agreement=agreement, today=today)
            count += 1
    return count


@transaction.atomic
def agreement_terminate(*, membership: Membership, agreement: QualityAgreement, reason: str,
                        on: dt.date | None = None) -> QualityAgreement:
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_party(membership, agreement)
    if agreement.state != State.EFFECTIVE:
        raise ValidationError({"state": "Only the effective version can be terminated."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the agreement ends; the termination handover depends on it."})
    agreement.state, agreement.termination_reason = State.TERMINATED, reason.strip()
    agreement.effective_until = on or dt.date.today()
    with reason_for_change(f"terminated: {reason.strip()}"):
        versioned_save(agreement, ["state", "termination_reason", "effective_until"], None, False)
        with rls.system_context(f"agreement {agreement.pk} terminated: close its review clock"):
            _close_review_clock(agreement, f"agreement terminated: {reason.strip()}")
    return agreement


# --- Subcontractor consent register ----------------------------------------------------------------------------


@transaction.atomic
def consent_propose(*, membership: Membership, partnership: Partnership, subcontractor: str, site: str,
                    country: str, activities: list[str]) -> SubcontractorConsent:
    """The CMO declares a sub-tier organization and site it wants to use; unapproved until the sponsor signs."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if membership.organization_id != partnership.cmo_id:
        raise PermissionDenied("The CMO of the partnership proposes its subcontractors.")
    if not activities:
        raise ValidationError({"activities": "Name at least one activity the subcontractor would perform."})
    consent = SubcontractorConsent(partnership=partnership, sponsor_id=partnership.sponsor_id,
                                   cmo_id=partnership.cmo_id, subcontractor=subcontractor.strip(), site=site.strip(),
                                   country=country.strip().upper(), activities=activities, created_by=membership.user)
    full_clean_by_field(consent, exclude=["partnership", "sponsor", "cmo", "created_by"])
    consent.save()
    return consent


def on_consent_signed(consent: SubcontractorConsent, signature: Any) -> None:
    if signature.step == "approve" and consent.state == SubcontractorConsent.State.PROPOSED:
        consent.state = SubcontractorConsent.State.APPROVED
        consent.save(update_fields=["state"])


@transaction.atomic
def consent_withdraw(*, membership: Membership, consent: SubcontractorConsent, reason: str) -> SubcontractorConsent:
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_party(membership, consent)
    if consent.state == SubcontractorConsent.State.WITHDRAWN:
        raise ValidationError({"state": "Already withdrawn."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the consent is withdrawn."})
    consent.state, consent.withdrawn_reason = SubcontractorConsent.State.WITHDRAWN, reason.strip()
    with reason_for_change(reason.strip()):
        consent.save(update_fields=["state", "withdrawn_reason"])
    return consent
