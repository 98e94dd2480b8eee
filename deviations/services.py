"""Writes for deviations (DESIGN.md §5): every change goes through here, in one transaction with its audit event,
its timeline entry and its clocks.

Workflow: draft → open (reported) → under investigation → pending QA approval → closed (a CMO QA approver signs;
the author may not), with return-for-rework, cancel (signed, with the reason) and reopen (with the reason).
Clocks come from each affected partnership's effective agreement: one sponsor-notification clock per affected
sponsor (its window for the classification, counted from the report) and one investigation-closure clock (the
strictest closure target among them). A notification clock is met when the CMO actually tells that sponsor (in-app
and e-mail through the outbox); the sponsor's acknowledgement is its own row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agreements.catalogue import NotificationEvent
from agreements.selectors import effective_terms
from clocks import services as clocks
from clocks.calendars import Unit
from clocks.models import Deadline
from clocks.rules import Rule, reminders
from deviations import taxonomy
from deviations.models import (
    Acknowledgement,
    AffectedProduct,
    Classification,
    Comment,
    ConsistencyFlag,
    Deviation,
    ExtensionRequest,
    Notice,
    RepeatLink,
    RootCauseCode,
    TimelineEntry,
)
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import bump_version, versioned_save
from tenants.models import Membership, Partnership, Site
from tenants.numbering import next_number
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY

REPEAT_WINDOW = dt.timedelta(days=365)
NOTICE_EVENT = {Classification.CRITICAL: NotificationEvent.CRITICAL_DEVIATION,
                Classification.MAJOR: NotificationEvent.MAJOR_DEVIATION,
                Classification.MINOR: NotificationEvent.MINOR_DEVIATION}
HEADER_FIELDS = ("title", "site", "area_equipment", "process_step", "category", "discovered_at", "discovered_by",
                 "description", "immediate_actions")
INVESTIGATION_FIELDS = ("investigation_method", "findings", "root_cause_code", "conclusion", "outcome",
                        "capa_not_required_reason")
State = Deviation.State


@dataclass(frozen=True)
class Line:
    """An affected product as the CMO enters it: the product, its batches, and (later) the impact assessment."""

    product_id: int
    batch_numbers: tuple[str, ...] = ()


# --- Guards -----------------------------------------------------------------------------------------------------


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, deviation: Deviation) -> None:
    if deviation.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)


def _require_state(deviation: Deviation, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if deviation.state not in allowed:
        names = " or ".join(State(s).label.lower() for s in allowed)
        raise ValidationError({"state": f"Cannot {action}: {deviation.number} is "
                                        f"{deviation.get_state_display().lower()}; this needs it {names}."})


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Give {what}; it is recorded in the audit trail."})
    return text


def _note(deviation: Deviation, membership: Membership | None, text: str, sponsor_id: int | None = None) -> None:
    TimelineEntry.objects.create(deviation=deviation, organization_id=deviation.organization_id,
                                 sponsor_id=sponsor_id, text=text,
                                 actor_name=membership.user.printed_name if membership else "")


# --- Create and edit --------------------------------------------------------------------------------------------


@transaction.atomic
def deviation_create(*, membership: Membership, site: Site, title: str, discovered_at: dt.datetime,
                     discovered_by: str, description: str, immediate_actions: str = "", area_equipment: str = "",
                     process_step: str = "", category: str = "manufacturing", lines: Sequence[Line] = ()
                     ) -> Deviation:
    """A first-line report (an operator may write it): a draft until reported."""
    _require(membership, Capability.RECORD_OPERATIONS)
    if not membership.organization.is_cmo:
        raise ValidationError({"site": "Deviations are recorded by the CMO where the work is done; a sponsor "
                                       "comments on the CMO's deviation instead."})
    if site.organization_id != membership.organization_id:
        raise ValidationError({"site": "Choose one of your organization's sites."})
    deviation = Deviation(
        organization_id=membership.organization_id, title=title, site=site, discovered_at=discovered_at,
        discovered_by=discovered_by, description=description, immediate_actions=immediate_actions,
        area_equipment=area_equipment, process_step=process_step, category=category, created_by=membership.user,
        number="DEV-pending")
    _validate_header(deviation)
    deviation.number = next_number(membership.organization_id, "DEV", timezone.localdate())
    deviation.save()
    if lines:
        _set_lines(membership, deviation, lines)
    _note(deviation, membership, f"Drafted by {membership.user.printed_name}.")
    return deviation


def _validate_header(deviation: Deviation) -> None:
    full_clean_by_field(deviation, exclude=["organization", "created_by", "site", "closure_deadline", "reported_by"])
    if deviation.discovered_at and deviation.discovered_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"discovered_at": "The discovery time cannot be in the future."})


@transaction.atomic
def deviation_update(*, membership: Membership, deviation: Deviation, expected_version: int | None = None,
                     precondition: bool = False, **changes: Any) -> Deviation:
    """Edit the write-up's header while it is editable (draft: its reporter's role; later: QA authors)."""
    _require_owner(membership, deviation)
    _require(membership, Capability.RECORD_OPERATIONS if deviation.state == State.DRAFT
             else Capability.AUTHOR_QUALITY_RECORDS)
    if not deviation.is_editable:
        raise ValidationError({"state": f"{deviation.number} is {deviation.get_state_display().lower()}; "
                                        "return it for rework or reopen it before editing."})
    unknown = set(changes) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    site = changes.get("site")
    if site is not None and site.organization_id != membership.organization_id:
        raise ValidationError({"site": "Choose one of your organization's sites."})
    changed = [name for name, value in changes.items() if getattr(deviation, name) != value]
    for name in changed:
        setattr(deviation, name, changes[name])
    _validate_header(deviation)
    fields = [("site_id" if name == "site" else name) for name in changed]
    if {"site", "area_equipment", "process_step", "discovered_at"} & set(changed):
        fields += _refresh_repeats(deviation)
    versioned_save(deviation, fields, expected_version, precondition)
    if {"process_step"} & set(changed):
        check_consistency(deviation)
    return deviation


@transaction.atomic
def lines_set(*, membership: Membership, deviation: Deviation, lines: Sequence[Line],
              expected_version: int | None = None, precondition: bool = False) -> Deviation:
    """Replace the affected products and batches (impact assessments of kept products are kept)."""
    _require_owner(membership, deviation)
    _require(membership, Capability.RECORD_OPERATIONS if deviation.state == State.DRAFT
             else Capability.AUTHOR_QUALITY_RECORDS)
    if not deviation.is_editable:
        raise ValidationError({"lines": f"{deviation.number} is {deviation.get_state_display().lower()}; its "
                                        "affected products can no longer change."})
    if deviation.state != State.DRAFT and not lines:
        raise ValidationError({"lines": "A reported deviation affects at least one product."})
    bump_version(deviation, expected_version, precondition)
    _set_lines(membership, deviation, lines)
    if deviation.classification:
        _sync_notices(membership, deviation)
    check_consistency(deviation)
    return deviation


def _set_lines(membership: Membership, deviation: Deviation, lines: Sequence[Line]) -> None:
    seen: set[int] = set()
    partnerships = {}
    for index, line in enumerate(lines):
        if line.product_id in seen:
            raise ValidationError({f"lines.{index}": "This product is listed twice."})
        seen.add(line.product_id)
        partnership = (Partnership.objects.filter(cmo_id=membership.organization_id, products=line.product_id)
                       .select_related("sponsor").first())
        if partnership is None:
            raise ValidationError({f"lines.{index}": "This product is not one your organization makes for a "
                                                     "sponsor (no partnership names it)."})
        for batch in line.batch_numbers:
            if not batch.strip() or len(batch) > 50:
                raise ValidationError({f"lines.{index}": "Each batch number is 1–50 characters."})
        partnerships[line.product_id] = partnership
    existing = {row.product_id: row for row in deviation.lines.all()}
    AffectedProduct.objects.filter(deviation=deviation).exclude(product_id__in=seen).delete()
    for line in lines:
        partnership = partnerships[line.product_id]
        batches = [b.strip() for b in line.batch_numbers]
        row = existing.get(line.product_id)
        if row is None:
            AffectedProduct.objects.create(
                deviation=deviation, organization_id=deviation.organization_id, partnership=partnership,
                sponsor_id=partnership.sponsor_id, product_id=line.product_id, batch_numbers=batches)
        elif row.batch_numbers != batches:
            row.batch_numbers = batches
            row.save(update_fields=["batch_numbers"])


# --- Workflow ---------------------------------------------------------------------------------------------------


@transaction.atomic
def deviation_report(*, membership: Membership, deviation: Deviation, at: dt.datetime | None = None) -> Deviation:
    """Draft → open: the report time starts the closure clock (and, once classified, the notification clocks).

    ``at`` is for loading history (the demo, a migration from paper): pages and the API always report now."""
    _require_owner(membership, deviation)
    _require(membership, Capability.RECORD_OPERATIONS)
    _require_state(deviation, [State.DRAFT], "report it")
    lines = list(deviation.lines.all())
    if not lines:
        raise ValidationError({"lines": "Name at least one affected product before reporting."})
    now = at or timezone.now()
    deviation.state, deviation.reported_at, deviation.reported_by = State.OPEN, now, membership.user
    days = min(effective_terms(p).deviation_closure_days for p in {line.partnership_id for line in lines})
    deviation.closure_deadline = _closure_clock(deviation, days, now, "deviation reported")
    fields = ["state", "reported_at", "reported_by_id", "closure_deadline_id", *_refresh_repeats(deviation)]
    versioned_save(deviation, fields, None, False)
    _note(deviation, membership, f"Reported by {membership.user.printed_name}; investigation to close within "
                                 f"{days} days.")
    return deviation


def _closure_clock(deviation: Deviation, days: int, starts_at: dt.datetime, start_event: str) -> Deadline:
    rule = Rule(code="deviation_closure", title="Deviation investigation closure", amount=days,
                unit=Unit.CALENDAR_DAYS, calendar=None, start_event=start_event,
                stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS, escalate=(1, 7)))
    sponsors = set(deviation.lines.values_list("sponsor_id", flat=True))
    return clocks.deadline_create(
        organization_id=deviation.organization_id, record=deviation, subject_label=str(deviation), rule=rule,
        starts_at=starts_at, audience=[clocks.Audience(sponsor, ()) for sponsor in sorted(sponsors)])


@transaction.atomic
def deviation_classify(*, membership: Membership, deviation: Deviation, classification: str, rationale: str,
                       expected_version: int | None = None, precondition: bool = False) -> Deviation:
    """Classify (or reclassify, with a new rationale): starts each affected sponsor's notification clock."""
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(deviation, [State.OPEN, State.UNDER_INVESTIGATION], "classify it")
    if classification not in Classification.values:
        raise ValidationError({"classification": "Choose minor, major or critical."})
    rationale = _text(rationale, "classification_rationale", "the rationale for the classification")
    if classification == deviation.classification and rationale == deviation.classification_rationale:
        raise ValidationError({"classification": f"{deviation.number} is already classified "
                                                 f"{deviation.get_classification_display().lower()}."})
    previous = deviation.get_classification_display().lower()
    deviation.classification, deviation.classification_rationale = classification, rationale
    deviation.classified_at = timezone.now()
    with reason_for_change(f"classified {classification}: {rationale}"):
        versioned_save(deviation, ["classification", "classification_rationale", "classified_at"],
                       expected_version, precondition)
    label = Classification(classification).label.lower()
    _note(deviation, membership, (f"Reclassified from {previous} to {label}" if previous else f"Classified {label}")
          + f" by {membership.user.printed_name}: {rationale}")
    _sync_notices(membership, deviation)
    check_consistency(deviation)
    return deviation


def _sync_notices(membership: Membership, deviation: Deviation) -> None:
    """One live notice (and clock) per affected sponsor for the current classification; notices no longer right
    (reclassified, or the sponsor is no longer affected) are superseded and their unmet clocks cancelled."""
    sponsors = dict(deviation.lines.values_list("partnership_id", "sponsor_id").distinct())
    live = list(Notice.objects.filter(deviation=deviation, superseded=False).select_related("deadline"))
    for notice in live:
        if notice.partnership_id in sponsors and notice.classification == deviation.classification:
            continue
        why = ("reclassified" if notice.partnership_id in sponsors else "the sponsor's product is no longer affected")
        if notice.deadline is not None and not notice.deadline.is_closed:
            clocks.deadline_cancel(deadline=notice.deadline, reason=f"{deviation.number} {why}")
        notice.superseded = True
        notice.save(update_fields=["superseded"])
    current = {n.partnership_id for n in live if n.partnership_id in sponsors
               and n.classification == deviation.classification}
    for partnership_id, sponsor_id in sponsors.items():
        if partnership_id in current:
            continue
        terms = effective_terms(partnership_id)
        rule = terms.notification_rule(NOTICE_EVENT[Classification(deviation.classification)],
                                       start_event="deviation reported")
        notice = Notice.objects.create(deviation=deviation, organization_id=deviation.organization_id,
                                       sponsor_id=sponsor_id, partnership_id=partnership_id,
                                       classification=deviation.classification)
        assert deviation.reported_at is not None  # classification needs a reported deviation
        notice.deadline = clocks.deadline_create(
            organization_id=deviation.organization_id, record=deviation,
            subject_label=f"{deviation.number} → {Partnership.objects.get(pk=partnership_id).sponsor.name}",
            rule=rule, starts_at=deviation.reported_at, audience=[clocks.Audience(sponsor_id, ())])
        notice.save(update_fields=["deadline"])
        _note(deviation, membership, f"Sponsor notification clock started, from {terms.source}: "
                                     f"{notice.deadline.rule_text}.", sponsor_id=sponsor_id)


@transaction.atomic
def deviation_notify(*, membership: Membership, deviation: Deviation, message: str = "",
                     partnership_ids: Sequence[int] | None = None) -> list[Notice]:
    """Tell each affected sponsor not yet told (or the named ones): in-app and e-mail to its QA, now.

    The notice to a sponsor names only that sponsor's products and batches. Its clock is met at this moment.
    """
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if not deviation.classification:
        raise ValidationError({"state": "Classify the deviation first: the notice says how serious it is."})
    pending = Notice.objects.filter(deviation=deviation, superseded=False, notified_at__isnull=True)
    if partnership_ids is not None:
        pending = pending.filter(partnership_id__in=partnership_ids)
    notices = list(pending.select_related("deadline"))
    if not notices:
        raise ValidationError({"state": "Every affected sponsor has already been told of this classification."})
    now = timezone.now()
    for notice in notices:
        own_lines = deviation.lines.filter(partnership_id=notice.partnership_id).select_related("product")
        products = "; ".join(f"{line.product.code} ({', '.join(line.batch_numbers) or 'no batch named'})"
                             for line in own_lines)
        subject = (f"{notice.get_classification_display()} deviation {deviation.number} affects your product: "
                   f"{deviation.title}")
        body = (f"{deviation.number} at {deviation.site.name}, reported {deviation.reported_at:%d %b %Y %H:%M} UTC, "
                f"classified {notice.get_classification_display().lower()}.\nYour products and batches: {products}."
                f"\n\n{deviation.description}" + (f"\n\nMessage from {membership.user.printed_name}: {message}"
                                                   if message.strip() else ""))
        told = clocks.notify_partner(partnership_id=notice.partnership_id, record=deviation, subject=subject,
                                     body=body)
        if not told:
            raise ValidationError({"state": "A sponsor has no active QA member to tell; ask its org admin to add "
                                            "one, and use another channel meanwhile."})
        notice.message, notice.notified_at, notice.notified_by, notice.recipients = message, now, membership.user, told
        notice.save(update_fields=["message", "notified_at", "notified_by", "recipients"])
        if notice.deadline is not None and not notice.deadline.is_closed:
            clocks.deadline_complete(deadline=notice.deadline, at=now)
        _note(deviation, membership, f"Sponsor notified by {membership.user.printed_name} ({told} QA member"
                                     f"{'s' if told != 1 else ''}).", sponsor_id=notice.sponsor_id)
    return notices


@transaction.atomic
def notice_acknowledge(*, membership: Membership, notice: Notice, note: str = "") -> Acknowledgement:
    """The sponsor confirms it received the notice (its own row; the CMO is told)."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if notice.sponsor_id != membership.organization_id:
        raise PermissionDenied("Only the sponsor the notice went to acknowledges it.")
    if notice.notified_at is None:
        raise ValidationError({"notice": "This notice has not been sent yet."})
    if Acknowledgement.objects.filter(notice=notice).exists():
        raise ValidationError({"notice": "This notice is already acknowledged."})
    ack = Acknowledgement.objects.create(notice=notice, organization_id=membership.organization_id,
                                         cmo_id=notice.organization_id, acknowledged_by=membership.user,
                                         acknowledged_by_name=membership.user.printed_name, note=note.strip())
    deviation = notice.deviation
    clocks.notify_partner(partnership_id=notice.partnership_id, record=deviation,
                          subject=f"{membership.organization.name} acknowledged {deviation.number}",
                          body=f"{membership.user.printed_name} acknowledged the "
                               f"{notice.get_classification_display().lower()} deviation notice."
                               + (f"\n\n{note.strip()}" if note.strip() else ""))
    return ack


@transaction.atomic
def deviation_start_investigation(*, membership: Membership, deviation: Deviation) -> Deviation:
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(deviation, [State.OPEN], "start the investigation")
    if not deviation.classification:
        raise ValidationError({"classification": "Classify the deviation before investigating it."})
    deviation.state = State.UNDER_INVESTIGATION
    versioned_save(deviation, ["state"], None, False)
    _note(deviation, membership, f"Investigation started by {membership.user.printed_name}.")
    return deviation


@transaction.atomic
def investigation_update(*, membership: Membership, deviation: Deviation, impacts: dict[int, str] | None = None,
                         expected_version: int | None = None, precondition: bool = False,
                         **changes: Any) -> Deviation:
    """Record the investigation: method, findings, root cause code, conclusion and outcome, and the product
    impact per affected product. A new root cause re-runs repeat detection and the consistency check."""
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(deviation, [State.UNDER_INVESTIGATION], "record the investigation")
    unknown = set(changes) - set(INVESTIGATION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field is not part of the investigation."})
    code = changes.get("root_cause_code", deviation.root_cause_code)
    if code and code != deviation.root_cause_code:
        changes["root_cause_label"] = _validate_cause(membership.organization_id, code)
        changes["root_cause_version"] = taxonomy.VERSION
    changed = [name for name, value in changes.items() if getattr(deviation, name) != value]
    for name in changed:
        setattr(deviation, name, changes[name])
    full_clean_by_field(deviation, exclude=["organization", "created_by", "site", "closure_deadline", "reported_by"])
    if "root_cause_code" in changed:
        changed += _refresh_repeats(deviation)
    versioned_save(deviation, changed, expected_version, precondition)
    if impacts:
        rows = {row.pk: row for row in deviation.lines.all()}
        for line_id, text in impacts.items():
            row = rows.get(int(line_id))
            if row is None:
                raise ValidationError({"impacts": f"Line {line_id} is not an affected product of this deviation."})
            if row.impact != text:
                row.impact = text
                row.save(update_fields=["impact"])
    if {"root_cause_code", "outcome"} & set(changed):
        check_consistency(deviation)
    return deviation


def _validate_cause(organization_id: int, code: str) -> str:
    """The code's label, if the code is a standard sub-code or one of the organization's own active codes."""
    if code in taxonomy.STANDARD:
        if taxonomy.is_category(code):
            raise ValidationError({"root_cause_code": f"{code} is a category; choose one of its sub-codes."})
        return taxonomy.label(code)
    own = RootCauseCode.objects.filter(organization_id=organization_id, code=code, is_active=True).first()
    if own is None:
        raise ValidationError({"root_cause_code": f"{code} is not in the standard taxonomy or your own codes."})
    return str(own)


def missing_for_approval(deviation: Deviation) -> list[str]:
    """What the write-up still lacks before QA can approve it (shown on the page, refused on submit)."""
    missing = [label for field, label in (
        ("classification", "classification"), ("investigation_method", "investigation method"),
        ("findings", "findings"), ("root_cause_code", "root cause code"), ("conclusion", "conclusion"),
        ("outcome", "outcome")) if not getattr(deviation, field)]
    lines = list(deviation.lines.select_related("product"))
    missing += [f"product impact for {line.product.code}" for line in lines if not line.impact.strip()]
    if (deviation.is_repeat or deviation.classification == Classification.CRITICAL) and not (
            deviation.capa_not_required_reason.strip() or linked_capas_exist(deviation)):
        why = "a repeat" if deviation.is_repeat else "critical"
        missing.append(f"a linked CAPA or the reason none is needed (it is {why})")
    return missing


def linked_capas_exist(deviation: Deviation) -> bool:
    from capa.models import Capa

    return Capa.objects.filter(source_deviation=deviation, organization_id=deviation.organization_id).exclude(
        state=Capa.State.CANCELLED).exists()


@transaction.atomic
def deviation_submit(*, membership: Membership, deviation: Deviation) -> Deviation:
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(deviation, [State.UNDER_INVESTIGATION], "submit it for approval")
    missing = missing_for_approval(deviation)
    if missing:
        raise ValidationError({"state": "Before QA approval, add: " + "; ".join(missing) + "."})
    deviation.state, deviation.submitted_at = State.PENDING_APPROVAL, timezone.now()
    versioned_save(deviation, ["state", "submitted_at"], None, False)
    _note(deviation, membership, f"Submitted for QA approval by {membership.user.printed_name}.")
    check_consistency(deviation)
    return deviation


@transaction.atomic
def deviation_return(*, membership: Membership, deviation: Deviation, reason: str) -> Deviation:
    """Pending approval → under investigation: QA sends the write-up back for rework."""
    _require_owner(membership, deviation)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(deviation, [State.PENDING_APPROVAL], "return it for rework")
    reason = _text(reason, "reason", "the reason")
    deviation.state = State.UNDER_INVESTIGATION
    with reason_for_change(f"returned for rework: {reason}"):
        versioned_save(deviation, ["state"], None, False)
    _note(deviation, membership, f"Returned for rework by {membership.user.printed_name}: {reason}")
    return deviation


def on_closed(deviation: Deviation, signature: Any) -> None:
    """The QA approver's signature closes the deviation (called in the signing transaction)."""
    deviation.state, deviation.closed_at = State.CLOSED, signature.signed_at
    versioned_save(deviation, ["state", "closed_at"], None, False)
    if deviation.closure_deadline is not None and not deviation.closure_deadline.is_closed:
        clocks.deadline_complete(deadline=deviation.closure_deadline, at=signature.signed_at)
    _note(deviation, signature.signer_membership, f"Closed: approved and signed by {signature.printed_name}.")
    check_consistency(deviation)


def on_cancelled(deviation: Deviation, signature: Any) -> None:
    deviation.state = State.CANCELLED
    versioned_save(deviation, ["state"], None, False)
    for deadline in _open_clocks(deviation):
        clocks.deadline_cancel(deadline=deadline, reason=f"{deviation.number} cancelled: {deviation.cancel_reason}")
    _note(deviation, signature.signer_membership,
          f"Cancelled with the signature of {signature.printed_name}: {deviation.cancel_reason}")
    check_consistency(deviation)


def _open_clocks(deviation: Deviation) -> list[Deadline]:
    return list(Deadline.objects.filter(record_table=Deviation._meta.db_table, record_id=deviation.pk,
                                        organization_id=deviation.organization_id,
                                        state__in=[Deadline.State.OPEN, Deadline.State.MISSED],
                                        completed_at__isnull=True))


def deviation_sign_close(*, request: Any, membership: Membership, deviation: Deviation, password: str,
                         otp: str | None = None) -> Any:
    """Not wrapped in a transaction of its own: a wrong password must stay recorded (lockout counts it) while the
    signature is refused; ``signatures.sign`` makes the signature and its effects atomic."""
    from part11 import signatures

    _require_owner(membership, deviation)
    return signatures.sign(request=request, membership=membership, record=deviation, step="close",
                           password=password, otp=otp)


def deviation_cancel(*, request: Any, membership: Membership, deviation: Deviation, reason: str, password: str,
                     otp: str | None = None) -> Any:
    """Record why (audited), then sign the cancellation over it. A refused signature (a wrong password) leaves the
    reason recorded and the deviation open, and the failed attempt counted toward lockout."""
    from part11 import signatures

    _require_owner(membership, deviation)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(deviation, [State.DRAFT, State.OPEN, State.UNDER_INVESTIGATION, State.PENDING_APPROVAL],
                   "cancel it")
    deviation.cancel_reason = _text(reason, "reason", "the reason for cancelling")
    versioned_save(deviation, ["cancel_reason"], None, False)
    return signatures.sign(request=request, membership=membership, record=deviation, step="cancel",
                           password=password, otp=otp)


@transaction.atomic
def deviation_reopen(*, membership: Membership, deviation: Deviation, reason: str) -> Deviation:
    """Closed or cancelled → under investigation. Its signatures are void (database trigger: any change while
    under investigation voids them); a new closure clock runs from now."""
    _require_owner(membership, deviation)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(deviation, [State.CLOSED, State.CANCELLED], "reopen it")
    reason = _text(reason, "reason", "the reason for reopening")
    if deviation.reported_at is None:
        raise ValidationError({"state": "A draft cancelled before it was reported cannot be reopened; report a new "
                                        "deviation instead."})
    deviation.state, deviation.reopen_reason, deviation.closed_at = State.UNDER_INVESTIGATION, reason, None
    days = min(effective_terms(p).deviation_closure_days
               for p in set(deviation.lines.values_list("partnership_id", flat=True)))
    deviation.closure_deadline = _closure_clock(deviation, days, timezone.now(), "deviation reopened")
    fields = ["state", "reopen_reason", "closed_at", "closure_deadline_id"]
    with reason_for_change(f"reopened: {reason}"):
        versioned_save(deviation, fields, None, False)
    _note(deviation, membership, f"Reopened by {membership.user.printed_name}: {reason}")
    return deviation


# --- Comments, extensions ------------------------------------------------------------------------------------


@transaction.atomic
def comment_add(*, membership: Membership, deviation: Deviation, body: str, kind: str = Comment.Kind.COMMENT,
                sponsor_id: int | None = None) -> Comment:
    """A sponsor's product-knowledge input (to the CMO), or the CMO's answer to one sponsor or internal note."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    body = _text(body, "body", "the comment")
    if kind not in Comment.Kind.values:
        raise ValidationError({"kind": "Choose comment, question or answer."})
    affected = dict(deviation.lines.values_list("sponsor_id", "partnership_id").distinct())
    org = membership.organization_id
    if org == deviation.organization_id:
        if sponsor_id is not None and sponsor_id not in affected:
            raise ValidationError({"sponsor": "Address a sponsor whose product this deviation affects."})
    elif org in affected:
        sponsor_id = org
    else:
        raise PermissionDenied(PARTNER_READ_ONLY)
    comment = Comment.objects.create(deviation=deviation, organization_id=org, cmo_id=deviation.organization_id,
                                     sponsor_id=sponsor_id, kind=kind, body=body, author=membership.user,
                                     author_name=membership.user.printed_name)
    if sponsor_id is not None:
        clocks.notify_partner(partnership_id=affected[sponsor_id], record=deviation,
                              subject=f"{Comment.Kind(kind).label} on {deviation.number} from "
                                      f"{membership.organization.name}", body=body)
    return comment


@transaction.atomic
def extension_request(*, membership: Membership, deviation: Deviation, due_date: dt.date,
                      justification: str) -> ExtensionRequest:
    _require_owner(membership, deviation)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if not deviation.is_open or deviation.closure_deadline is None or deviation.closure_deadline.is_closed:
        raise ValidationError({"requested_due_date": "Only an open, reported deviation's closure clock can be "
                                                     "extended."})
    justification = _text(justification, "justification", "the justification")
    current = deviation.closure_deadline.due_at.date()
    if due_date <= current:
        raise ValidationError({"requested_due_date": f"Ask for a date after the current target, {current:%d %b %Y}."})
    request = ExtensionRequest(deviation=deviation, organization_id=deviation.organization_id,
                               requested_due_date=due_date, justification=justification,
                               requested_by=membership.user)
    full_clean_by_field(request, exclude=["deviation", "organization", "requested_by"])
    request.save()
    _note(deviation, membership, f"Extension to {due_date:%d %b %Y} requested by {membership.user.printed_name}: "
                                 f"{justification}")
    return request


@transaction.atomic
def extension_decide(*, membership: Membership, extension: ExtensionRequest, approve: bool,
                     note: str = "") -> ExtensionRequest:
    """A QA approver other than the requester approves (moving the closure clock, audited) or rejects."""
    deviation = extension.deviation
    _require_owner(membership, deviation)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if extension.state != ExtensionRequest.State.PENDING:
        raise ValidationError({"state": f"This request is already {extension.get_state_display().lower()}."})
    if extension.requested_by_id == membership.user_id:
        raise ValidationError({"state": "Someone other than the requester decides an extension."})
    if not approve:
        note = _text(note, "note", "why it is rejected")
    extension.state = ExtensionRequest.State.APPROVED if approve else ExtensionRequest.State.REJECTED
    extension.decided_by, extension.decided_at, extension.decision_note = membership.user, timezone.now(), note
    extension.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if approve:
        assert deviation.closure_deadline is not None
        clocks.deadline_extend(membership=membership, deadline=deviation.closure_deadline,
                               due_date=extension.requested_due_date,
                               reason=f"{extension.justification}" + (f" ({note})" if note else ""))
    verdict = "approved" if approve else "rejected"
    _note(deviation, membership, f"Extension to {extension.requested_due_date:%d %b %Y} {verdict} by "
                                 f"{membership.user.printed_name}" + (f": {note}" if note else "."))
    return extension


@transaction.atomic
def cause_add(*, membership: Membership, code: str, name: str, parent: str) -> RootCauseCode:
    """Extend the organization's taxonomy with a sub-code under a standard category."""
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if not membership.organization.is_cmo:
        raise PermissionDenied("Root-cause codes belong to the CMO that investigates; sponsors read its codes.")
    code, name = code.strip().upper(), name.strip()
    if parent not in taxonomy.CATEGORY_CODES:
        raise ValidationError({"parent": "Choose one of the standard categories."})
    if code in taxonomy.STANDARD:
        raise ValidationError({"code": "This code is in the standard taxonomy already."})
    if not code.startswith(f"{parent}-"):
        raise ValidationError({"code": f"Start the code with its category, e.g. {parent}-X1."})
    cause = RootCauseCode(organization_id=membership.organization_id, code=code, name=name, parent=parent,
                          created_by=membership.user)
    full_clean_by_field(cause, exclude=["organization", "created_by"])
    cause.save()
    return cause


# --- Repeats and consistency -----------------------------------------------------------------------------------


def _refresh_repeats(deviation: Deviation) -> list[str]:
    """Link earlier deviations at the same site, within 12 months before discovery, with the same root cause and
    the same equipment or process step; set ``is_repeat``. Returns the fields it changed (for the caller's save)."""
    earlier: list[tuple[Deviation, str]] = []
    if deviation.root_cause_code and deviation.reported_at is not None:
        same = Q()
        if deviation.area_equipment.strip():
            same |= Q(area_equipment__iexact=deviation.area_equipment.strip())
        if deviation.process_step.strip():
            same |= Q(process_step__iexact=deviation.process_step.strip())
        if same:
            candidates = (Deviation.objects.filter(
                same, organization_id=deviation.organization_id, site_id=deviation.site_id,
                root_cause_code=deviation.root_cause_code,
                discovered_at__gte=deviation.discovered_at - REPEAT_WINDOW, discovered_at__lt=deviation.discovered_at)
                .exclude(pk=deviation.pk).exclude(state__in=[State.DRAFT, State.CANCELLED]))
            for other in candidates:
                on = [what for what, mine, theirs in (
                    ("equipment", deviation.area_equipment, other.area_equipment),
                    ("process step", deviation.process_step, other.process_step))
                    if mine.strip() and mine.strip().lower() == theirs.strip().lower()]
                earlier.append((other, " and ".join(on)))
    RepeatLink.objects.filter(deviation=deviation).exclude(earlier__in=[e for e, _ in earlier]).delete()
    kept = set(RepeatLink.objects.filter(deviation=deviation).values_list("earlier_id", flat=True))
    RepeatLink.objects.bulk_create([
        RepeatLink(deviation=deviation, earlier=other, organization_id=deviation.organization_id,
                   matched_on=f"same site, root cause {deviation.root_cause_code}, {on}")
        for other, on in earlier if other.pk not in kept])
    repeat = bool(earlier)
    if repeat == deviation.is_repeat:
        return []
    deviation.is_repeat = repeat
    return ["is_repeat"]


def check_consistency(deviation: Deviation) -> list[ConsistencyFlag]:
    """Flag pairs with the same root cause and process step, for different sponsors, whose classification or
    outcome differ; resolve flags whose pair has become consistent. The CMO alone sees the flags."""
    step = deviation.process_step.strip()
    flags = ConsistencyFlag.objects.filter(Q(first=deviation) | Q(second=deviation))
    active = deviation.state not in (State.DRAFT, State.CANCELLED)
    if not (active and deviation.root_cause_code and step):
        flags.filter(state=ConsistencyFlag.State.OPEN).update(state=ConsistencyFlag.State.RESOLVED)
        return []
    mine = set(deviation.lines.values_list("sponsor_id", flat=True))
    others = (Deviation.objects.filter(organization_id=deviation.organization_id,
                                       root_cause_code=deviation.root_cause_code, process_step__iexact=step)
              .exclude(pk=deviation.pk).exclude(state__in=[State.DRAFT, State.CANCELLED])
              .prefetch_related("lines"))
    existing = {(f.first_id, f.second_id): f for f in flags}
    raised = []
    seen = set()
    for other in others:
        pair = (min(deviation.pk, other.pk), max(deviation.pk, other.pk))
        seen.add(pair)
        theirs = {line.sponsor_id for line in other.lines.all()}
        differences = _differences(deviation, other) if theirs != mine else []
        flag = existing.get(pair)
        text = "; ".join(differences)
        if differences and flag is None:
            raised.append(ConsistencyFlag.objects.create(
                organization_id=deviation.organization_id, first_id=pair[0], second_id=pair[1],
                root_cause_code=deviation.root_cause_code, process_step=step, differences=text))
        elif differences and flag is not None and (flag.state == ConsistencyFlag.State.RESOLVED
                                                   or flag.differences != text):
            flag.state, flag.differences = ConsistencyFlag.State.OPEN, text
            flag.save(update_fields=["state", "differences"])
            raised.append(flag)
        elif not differences and flag is not None and flag.state == ConsistencyFlag.State.OPEN:
            flag.state = ConsistencyFlag.State.RESOLVED
            flag.save(update_fields=["state"])
    for pair, flag in existing.items():
        if pair not in seen and flag.state == ConsistencyFlag.State.OPEN:
            flag.state = ConsistencyFlag.State.RESOLVED
            flag.save(update_fields=["state"])
    return raised


def _differences(a: Deviation, b: Deviation) -> list[str]:
    first, second = (a, b) if a.pk < b.pk else (b, a)
    out = []
    if first.classification and second.classification and first.classification != second.classification:
        out.append(f"classification: {first.get_classification_display().lower()} ({first.number}) vs "
                   f"{second.get_classification_display().lower()} ({second.number})")
    if first.outcome and second.outcome and first.outcome != second.outcome:
        out.append(f"conclusion: {first.get_outcome_display()} ({first.number}) vs {second.get_outcome_display()} "
                   f"({second.number})")
    return out


@transaction.atomic
def flag_review(*, membership: Membership, flag: ConsistencyFlag, note: str) -> ConsistencyFlag:
    """The CMO's QA head records why the two conclusions may differ (or what was corrected)."""
    if flag.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if flag.state != ConsistencyFlag.State.OPEN:
        raise ValidationError({"state": f"This flag is already {flag.get_state_display().lower()}."})
    flag.review_note = _text(note, "note", "the review conclusion")
    flag.state, flag.reviewed_by, flag.reviewed_at = ConsistencyFlag.State.REVIEWED, membership.user, timezone.now()
    flag.save(update_fields=["state", "review_note", "reviewed_by", "reviewed_at"])
    return flag
