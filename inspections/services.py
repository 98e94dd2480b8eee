"""Writes for inspections (DESIGN.md §5): every change goes through here, in one transaction with its audit event
(database trigger) and its clocks.

Workflow of an inspection (the CMO's record; QA authors write, QA approvers sign):

    announced → in progress (``inspection_start``) → closed out (``inspection_close_out``) → closed
    (``outcome_record``: NAI / VAI / OAI for FDA, compliant / non-compliant for other authorities)

- ``inspection_create`` / ``inspection_update`` / ``scope_set``: the site must be the CMO's own; each scope line
  names one of its partnerships (and optionally one of that partnership's products). A pre-approval or
  pre-licence inspection names the sponsor's application on at least one line: that sponsor participates in
  the response (comments on draft responses); sponsors of a routine, for-cause or follow-up inspection are
  notified and see impact only.
- ``notice_of_inspection_record``: the Form 482 (or another authority's notice) was received; each sponsor in
  scope gets a notification clock from ITS OWN agreement's Form 482 window (``effective_terms(partnership)
  .notification_rule``; conservative defaults with no agreement).
- ``log_add``: the live inspection log (requests, documents provided, interviews): the CMO's back room, never
  shown to a sponsor (row-level security). ``document_attach``: 482, 483, EIR, correspondence, Warning Letter,
  stored by ``tenants.files``; a sponsor in scope sees a document only when it is ``shared``.

Track 1, the agency response (FDA only: a Form 483 is FDA's):

- ``form483_record`` starts the response clock: ``clocks.rules.FDA_483_RESPONSE``, 15 US business days after the
  issue date, day 1 the next business day, federal holidays excluded; reminders at 10, 5, 2 and 1 business days
  left. ``form483_amend`` records the amended form's issue date and reason and RESTARTS that clock
  (``clocks.services.deadline_restart``, the reason in the audit trail); only before submission.
- ``observation_add`` / ``observation_update``: number, text, cited section; the 211 subpart and six-system
  category are suggested from the section (``inspections.taxonomy``) and may be changed (both kept); the
  repeat flag is computed (same subpart at the same site in an earlier inspection's 483); accountability
  (CMO / sponsor / shared; sponsor or shared needs a rationale and an affected partnership); visibility
  (site-wide: every sponsor in scope sees it; product-specific: only the sponsors of its affected products,
  which it must name); affected partnerships/products must be in the inspection's scope.
- ``response_draft``: commitment, actions, target date, evidence per observation, while drafting.
- ``form483_sign(step="review")`` then ``form483_sign(step="approve")``: a CMO QA reviewer signs "reviewed", a
  different CMO QA approver signs "approved" (``inspections.signing``); any later edit voids both (database
  trigger). Every observation needs a drafted commitment first.
- ``form483_submit``: needs the live approval; records the submission time; a submission after the due time is
  recorded as late (``Form483.submitted_late`` and the clock kept "missed", ``completed_late``), never hidden.
  Then, while any commitment is open, a periodic update is due every ``update_interval_days`` calendar days
  (``UpdateCommitment`` with its clock); ``update_record`` meets the current one and schedules the next;
  ``commitment_close`` closes one observation's commitment; when none is open, the 483 is closed and any open
  update clock is cancelled.
- ``capa_create_for`` / ``capa_link``: a CAPA (``capa.services.capa_create``, source "FDA 483 observation") of
  the CMO linked to an observation.

Track 2, the sponsors:

- On the notice of inspection, on the 483 and on a Warning Letter, each sponsor in scope gets a notice with a
  clock from its own agreement (the window of ``NotificationEvent.FORM_482`` / ``FDA_483`` /
  ``WARNING_LETTER``), started at the event. ``inspection_notify`` tells them through the app
  (``clocks.notify_partner``: in-app and e-mail) and meets each clock at that moment (late is recorded as late);
  ``notice_acknowledge`` is the sponsor's own row. A sponsor added to the scope later gets its clocks then
  (counted from the event); a sponsor removed has its unmet clocks cancelled.
- ``impact_assess``: per sponsor, per observation, the CMO's program impact (none / indirect / direct) with the
  rationale, only for a sponsor that sees the observation.
- ``comment_add``: the participating PAI sponsor comments on draft responses (its own rows), the CMO answers in
  that sponsor's thread; other sponsors are refused with the reason.

Warning Letter (FDA): ``warning_letter_record`` starts the 15-working-day reply clock
(``clocks.rules.WARNING_LETTER_RESPONSE``) and the sponsors' notices; ``warning_letter_respond`` meets it (late
recorded); ``warning_letter_close`` records FDA's close-out letter.

Dates without a time (issue dates) start clocks at 12:00 UTC of that date, which is the same date in every
regulator's zone we count in; services that load history (the demo, tests) pass ``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agreements.catalogue import NotificationEvent
from agreements.selectors import effective_terms
from capa.models import Capa
from clocks import services as clocks
from clocks.calendars import Unit
from clocks.models import Deadline, DeadlineAudience
from clocks.rules import FDA_483_RESPONSE, WARNING_LETTER_RESPONSE, Rule, reminders
from inspections import taxonomy
from inspections.models import (
    Accountability,
    Acknowledgement,
    AffectedProduct,
    Authority,
    CapaLink,
    CommitmentClosure,
    Document,
    Form483,
    ImpactAssessment,
    Inspection,
    InspectionType,
    LogEntry,
    Notice,
    Observation,
    Outcome,
    ResponseComment,
    Scope,
    UpdateCommitment,
    Visibility,
)
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import bump_version, versioned_save
from tenants.models import Membership, Partnership, Site
from tenants.numbering import next_number
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY

State = Inspection.State
HEADER_FIELDS = ("authority", "authority_name", "under_mra", "inspection_type", "announced_on", "investigators")
OBSERVATION_FIELDS = ("number", "text", "cited_regulation", "subpart", "system", "accountability",
                      "accountability_rationale", "visibility")
#: Inspections that review a sponsor's application: that sponsor participates in the response.
APPLICATION_TYPES = (InspectionType.PRE_APPROVAL, InspectionType.PRE_LICENCE)
FDA_OUTCOMES = (Outcome.NAI, Outcome.VAI, Outcome.OAI)
START_TIME = dt.time(12, 0)


@dataclass(frozen=True)
class ScopeLine:
    """A partnership in scope, optionally one of its products; for a PAI/PLI, the sponsor's application."""

    partnership_id: int
    product_id: int | None = None
    application_reference: str = ""


@dataclass(frozen=True)
class Affected:
    """A partnership (optionally one of its products) an observation affects."""

    partnership_id: int
    product_id: int | None = None


# --- Guards -----------------------------------------------------------------------------------------------------


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, record: Inspection | Form483) -> None:
    if record.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)


def _require_state(inspection: Inspection, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if inspection.state not in allowed:
        names = " or ".join(State(s).label.lower() for s in allowed)
        raise ValidationError({"state": f"Cannot {action}: {inspection.number} is "
                                        f"{inspection.get_state_display().lower()}; this needs it {names}."})


def _require_drafting(form483: Form483, action: str) -> None:
    if form483.state != Form483.State.DRAFTING:
        raise ValidationError({"state": f"Cannot {action}: the response to the 483 of {form483.inspection.number} "
                                        f"is already {form483.get_state_display().lower()}."})


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Give {what}; it is recorded in the audit trail."})
    return text


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _not_future(day: dt.date | None, field: str, now: dt.datetime) -> None:
    if day is not None and day > now.date():
        raise ValidationError({field: "This date cannot be in the future."})


def _moment(day: dt.date) -> dt.datetime:
    """When a clock counted from a date starts (see the module docstring)."""
    return dt.datetime.combine(day, START_TIME, tzinfo=dt.UTC)


def _require_fda(inspection: Inspection, field: str, what: str) -> None:
    if inspection.authority != Authority.FDA:
        raise ValidationError({field: f"{what} is issued by FDA; this is an inspection by "
                                      f"{inspection.get_authority_display()}. Record its documents and outcome "
                                      "instead."})


# --- Inspections and their scope ----------------------------------------------------------------------------------


@transaction.atomic
def inspection_create(*, membership: Membership, site: Site, authority: str, inspection_type: str,
                      scope: Sequence[ScopeLine] = (), authority_name: str = "", under_mra: bool = False,
                      announced_on: dt.date | None = None, started_on: dt.date | None = None,
                      investigators: Sequence[str] = (), now: dt.datetime | None = None) -> Inspection:
    """Record an inspection at one of the CMO's sites (announced; in progress when it has started)."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if not membership.organization.is_cmo:
        raise ValidationError({"site": "Inspections are recorded by the CMO whose site is inspected; a sponsor "
                                       "sees the CMO's record of an inspection that concerns it."})
    if site.organization_id != membership.organization_id:
        raise ValidationError({"site": "Choose one of your organization's sites."})
    moment = _now(now)
    _not_future(started_on, "started_on", moment)
    inspection = Inspection(
        organization_id=membership.organization_id, number="INS-pending", site=site, authority=authority,
        authority_name=authority_name.strip(), under_mra=under_mra, inspection_type=inspection_type,
        announced_on=announced_on, started_on=started_on,
        investigators=[name.strip() for name in investigators if name.strip()],
        state=State.IN_PROGRESS if started_on else State.ANNOUNCED, created_by=membership.user)
    _validate(inspection)
    inspection.number = next_number(membership.organization_id, "INS", moment.date())
    inspection.save()
    _set_scope(membership, inspection, scope)
    return inspection


def _validate(inspection: Inspection) -> None:
    full_clean_by_field(inspection, exclude=["organization", "created_by", "site", "warning_letter_deadline"])
    if inspection.announced_on and inspection.started_on and inspection.started_on < inspection.announced_on:
        raise ValidationError({"started_on": "An inspection starts on or after its announcement."})


@transaction.atomic
def inspection_update(*, membership: Membership, inspection: Inspection, expected_version: int | None = None,
                      precondition: bool = False, **changes: Any) -> Inspection:
    """Edit the header (authority, MRA flag, type, announcement date, investigators) until it is closed."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(inspection, [State.ANNOUNCED, State.IN_PROGRESS, State.CLOSED_OUT], "edit it")
    unknown = set(changes) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    if "investigators" in changes:
        changes["investigators"] = [name.strip() for name in changes["investigators"] if name.strip()]
    if changes.get("authority", inspection.authority) != Authority.FDA and hasattr(inspection, "form483"):
        raise ValidationError({"authority": "This inspection has a Form 483, which only FDA issues."})
    changed = [name for name, value in changes.items() if getattr(inspection, name) != value]
    for name in changed:
        setattr(inspection, name, changes[name])
    _validate(inspection)
    if "inspection_type" in changed:
        _check_applications(inspection, list(inspection.scope.all()))
    versioned_save(inspection, changed, expected_version, precondition)
    return inspection


@transaction.atomic
def scope_set(*, membership: Membership, inspection: Inspection, scope: Sequence[ScopeLine],
              expected_version: int | None = None, precondition: bool = False,
              now: dt.datetime | None = None) -> Inspection:
    """Replace the partnerships and products in scope. Sponsors added get the clocks of events already recorded
    (counted from the event); sponsors removed have their unmet notice clocks cancelled."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(inspection, [State.ANNOUNCED, State.IN_PROGRESS, State.CLOSED_OUT], "change its scope")
    bump_version(inspection, expected_version, precondition)
    _set_scope(membership, inspection, scope)
    _sync_notices(membership, inspection, _now(now))
    return inspection


def _set_scope(membership: Membership, inspection: Inspection, scope: Sequence[ScopeLine]) -> None:
    seen: set[tuple[int, int | None]] = set()
    partnerships: dict[int, Partnership] = {}
    for index, line in enumerate(scope):
        key = (line.partnership_id, line.product_id)
        if key in seen:
            raise ValidationError({f"scope.{index}": "This partnership or product is listed twice."})
        seen.add(key)
        partnership = partnerships.get(line.partnership_id) or Partnership.objects.filter(
            pk=line.partnership_id, cmo_id=membership.organization_id).first()
        if partnership is None:
            raise ValidationError({f"scope.{index}": "Choose one of your organization's partnerships."})
        partnerships[partnership.pk] = partnership
        if line.product_id is not None and not partnership.products.filter(pk=line.product_id).exists():
            raise ValidationError({f"scope.{index}": "This product is not in that partnership's scope."})
        if len(line.application_reference.strip()) > 100:
            raise ValidationError({f"scope.{index}": "An application reference is at most 100 characters."})
    lines = [Scope(inspection=inspection, organization_id=inspection.organization_id,
                   partnership_id=line.partnership_id, sponsor_id=partnerships[line.partnership_id].sponsor_id,
                   product_id=line.product_id, application_reference=line.application_reference.strip())
             for line in scope]
    _check_applications(inspection, lines)
    used = set(AffectedProduct.objects.filter(observation__inspection=inspection)
               .values_list("partnership_id", flat=True))
    missing = used - set(partnerships)
    if missing:
        raise ValidationError({"scope": "An observation names a partnership you are removing from the scope; "
                                        "change the observation first."})
    Scope.objects.filter(inspection=inspection).delete()
    Scope.objects.bulk_create(lines)


def _check_applications(inspection: Inspection, lines: Sequence[Scope]) -> None:
    with_application = [line for line in lines if line.application_reference]
    if inspection.inspection_type in APPLICATION_TYPES and lines and not with_application:
        raise ValidationError({"scope": f"A {inspection.get_inspection_type_display().lower()} inspection reviews a "
                                        "sponsor's application: name it (e.g. NDA 212345) on that sponsor's line."})
    if inspection.inspection_type not in APPLICATION_TYPES and with_application:
        raise ValidationError({"scope": "Only a pre-approval or pre-licence inspection names an application."})


@transaction.atomic
def inspection_start(*, membership: Membership, inspection: Inspection, started_on: dt.date,
                     now: dt.datetime | None = None) -> Inspection:
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(inspection, [State.ANNOUNCED], "start it")
    _not_future(started_on, "started_on", _now(now))
    inspection.started_on, inspection.state = started_on, State.IN_PROGRESS
    _validate(inspection)
    versioned_save(inspection, ["started_on", "state"], None, False)
    return inspection


@transaction.atomic
def inspection_close_out(*, membership: Membership, inspection: Inspection, closed_out_on: dt.date,
                         now: dt.datetime | None = None) -> Inspection:
    """The close-out meeting: the investigators have left (a 483, if any, is handed over at it)."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(inspection, [State.IN_PROGRESS], "close it out")
    _not_future(closed_out_on, "closed_out_on", _now(now))
    assert inspection.started_on is not None  # in progress means started
    if closed_out_on < inspection.started_on:
        raise ValidationError({"closed_out_on": "The close-out is on or after the start of the inspection."})
    inspection.closed_out_on, inspection.state = closed_out_on, State.CLOSED_OUT
    versioned_save(inspection, ["closed_out_on", "state"], None, False)
    return inspection


@transaction.atomic
def outcome_record(*, membership: Membership, inspection: Inspection, outcome: str, outcome_on: dt.date,
                   note: str = "", now: dt.datetime | None = None) -> Inspection:
    """The authority's classification closes the inspection: FDA's NAI / VAI / OAI; another authority's
    equivalent (compliant, or a statement of non-compliance) — or, for an inspection performed under a Mutual
    Recognition Agreement, the NAI / VAI / OAI classification FDA gives the partner authority's report."""
    _require_owner(membership, inspection)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(inspection, [State.CLOSED_OUT], "record its outcome")
    if inspection.authority == Authority.FDA:
        allowed: tuple[str, ...] = tuple(FDA_OUTCOMES)
    elif inspection.under_mra:
        allowed = (*FDA_OUTCOMES, Outcome.COMPLIANT, Outcome.NON_COMPLIANT)
    else:
        allowed = (Outcome.COMPLIANT, Outcome.NON_COMPLIANT)
    if outcome not in allowed:
        raise ValidationError({"outcome": "Choose " + " or ".join(Outcome(o).label for o in allowed) + "."})
    _not_future(outcome_on, "outcome_on", _now(now))
    assert inspection.closed_out_on is not None  # closed out
    if outcome_on < inspection.closed_out_on:
        raise ValidationError({"outcome_on": "The outcome comes after the close-out."})
    inspection.outcome, inspection.outcome_on, inspection.outcome_note = outcome, outcome_on, note.strip()
    inspection.state = State.CLOSED
    with reason_for_change(f"outcome {Outcome(outcome).label}"):
        versioned_save(inspection, ["outcome", "outcome_on", "outcome_note", "state"], None, False)
    return inspection


# --- Back room and documents ------------------------------------------------------------------------------------


@transaction.atomic
def log_add(*, membership: Membership, inspection: Inspection, kind: str, text: str, who: str = "",
            at: dt.datetime | None = None) -> LogEntry:
    """A line of the live inspection log: internal to the CMO (row-level security keeps it so)."""
    _require_owner(membership, inspection)
    _require(membership, Capability.RECORD_OPERATIONS)
    _require_state(inspection, [State.ANNOUNCED, State.IN_PROGRESS, State.CLOSED_OUT], "add to its log")
    entry = LogEntry(inspection=inspection, organization_id=inspection.organization_id, kind=kind,
                     at=at or timezone.now(), text=_text(text, "text", "what happened"), who=who.strip(),
                     author=membership.user)
    full_clean_by_field(entry, exclude=["inspection", "organization", "author"])
    entry.save()
    return entry


@transaction.atomic
def document_attach(*, membership: Membership, inspection: Inspection, upload: Any, kind: str, title: str = "",
                    shared: bool = False) -> Document:
    """Attach a document; the stored file belongs to the document row, so an unshared one stays the CMO's."""
    from tenants import files

    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": "Choose what the document is: "
                                       + ", ".join(str(label).lower() for label in Document.Kind.labels) + "."})
    document = Document.objects.create(inspection=inspection, organization_id=inspection.organization_id, kind=kind,
                                       title=(title or "").strip()[:200], shared=shared, uploaded_by=membership.user)
    document.file = files.file_store(membership=membership, record=document, upload=upload)
    document.save(update_fields=["file"])
    return document


# --- Track 2: sponsor notices -----------------------------------------------------------------------------------

EVENT_START: dict[str, str] = {NotificationEvent.FORM_482: "notice of inspection received",
               NotificationEvent.FDA_483: "483 issued", NotificationEvent.WARNING_LETTER: "Warning Letter issued"}


def _event_starts(inspection: Inspection) -> dict[str, dt.datetime]:
    """The sponsor-notification events recorded so far, with the moment each clock counts from."""
    starts: dict[str, dt.datetime] = {}
    if inspection.notice_received_at is not None:
        starts[NotificationEvent.FORM_482] = inspection.notice_received_at
    form483 = Form483.objects.filter(inspection=inspection).first()
    if form483 is not None:
        starts[NotificationEvent.FDA_483] = _moment(form483.original_issued_on)
    if inspection.warning_letter_issued_on is not None:
        starts[NotificationEvent.WARNING_LETTER] = _moment(inspection.warning_letter_issued_on)
    return starts


def _sync_notices(membership: Membership, inspection: Inspection, now: dt.datetime) -> None:
    """One notice (and clock) per sponsor partnership in scope per recorded event; unmet clocks of partnerships
    no longer in scope are cancelled. The agency clocks gain the new sponsors in their audience."""
    in_scope = dict(Scope.objects.filter(inspection=inspection).values_list("partnership_id", "sponsor_id")
                    .distinct())
    for notice in Notice.objects.filter(inspection=inspection, notified_at__isnull=True).exclude(
            partnership_id__in=in_scope).select_related("deadline"):
        if notice.deadline is not None and not notice.deadline.is_closed:
            clocks.deadline_cancel(deadline=notice.deadline,
                                   reason=f"{inspection.number}: the sponsor's partnership is no longer in scope")
    existing = set(Notice.objects.filter(inspection=inspection).values_list("partnership_id", "event"))
    names = dict(Partnership.objects.filter(pk__in=in_scope).values_list("pk", "sponsor__name"))
    for event, starts_at in _event_starts(inspection).items():
        for partnership_id, sponsor_id in sorted(in_scope.items()):
            if (partnership_id, event) in existing:
                continue
            terms = effective_terms(partnership_id, on=starts_at.date())
            rule = terms.notification_rule(event, start_event=EVENT_START[event])
            notice = Notice.objects.create(inspection=inspection, organization_id=inspection.organization_id,
                                           partnership_id=partnership_id, sponsor_id=sponsor_id, event=event,
                                           source=terms.source[:300])
            notice.deadline = clocks.deadline_create(
                organization_id=inspection.organization_id, record=inspection,
                subject_label=f"{inspection.number} → {names[partnership_id]}", rule=rule, starts_at=starts_at,
                audience=[clocks.Audience(sponsor_id, ())], now=now)
            notice.save(update_fields=["deadline"])
    agency = [d for d in (_response_deadline(inspection), inspection.warning_letter_deadline) if d is not None]
    for deadline in agency:
        _ensure_audience(deadline, inspection, set(in_scope.values()))


def _response_deadline(inspection: Inspection) -> Deadline | None:
    form483 = Form483.objects.filter(inspection=inspection).select_related("response_deadline").first()
    return form483.response_deadline if form483 is not None else None


def _agency_audience(inspection: Inspection) -> list[clocks.Audience]:
    """Every sponsor in scope sees the agency clock; the participating (application) sponsors are reminded too."""
    rows = list(Scope.objects.filter(inspection=inspection).values_list("sponsor_id", "application_reference"))
    participants = {sponsor for sponsor, application in rows if application}
    return [clocks.Audience(sponsor, clocks.QA_ROLES if sponsor in participants else ())
            for sponsor in sorted({sponsor for sponsor, _ in rows})]


def _ensure_audience(deadline: Deadline, inspection: Inspection, sponsor_ids: set[int]) -> None:
    have = set(DeadlineAudience.objects.filter(deadline=deadline).values_list("organization_id", flat=True))
    wanted = {a.organization_id: a.roles for a in _agency_audience(inspection)}
    DeadlineAudience.objects.bulk_create([
        DeadlineAudience(deadline=deadline, organization_id=sponsor, owner_organization_id=deadline.organization_id,
                         roles=list(wanted.get(sponsor, ()))) for sponsor in sorted(sponsor_ids - have)])


@transaction.atomic
def notice_of_inspection_record(*, membership: Membership, inspection: Inspection, received_at: dt.datetime,
                                now: dt.datetime | None = None) -> Inspection:
    """The Form 482 (or another authority's notice) was received: each sponsor's notification clock starts."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_state(inspection, [State.ANNOUNCED, State.IN_PROGRESS], "record its notice")
    moment = _now(now)
    if inspection.notice_received_at is not None:
        raise ValidationError({"notice_received_at": "The notice of inspection is already recorded."})
    if received_at > moment + dt.timedelta(minutes=5):
        raise ValidationError({"notice_received_at": "This time cannot be in the future."})
    inspection.notice_received_at = received_at
    versioned_save(inspection, ["notice_received_at"], None, False)
    _sync_notices(membership, inspection, moment)
    return inspection


@transaction.atomic
def inspection_notify(*, membership: Membership, inspection: Inspection, event: str, message: str = "",
                      partnership_ids: Sequence[int] | None = None, now: dt.datetime | None = None) -> list[Notice]:
    """Tell each sponsor not yet told of ``event`` (or the named ones), in-app and by e-mail: the notice names only
    that sponsor's products in scope. Each clock is met at this moment (late stays recorded as late)."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    pending = Notice.objects.filter(inspection=inspection, event=event, notified_at__isnull=True)
    if partnership_ids is not None:
        pending = pending.filter(partnership_id__in=partnership_ids)
    notices = list(pending.select_related("deadline"))
    if not notices:
        raise ValidationError({"event": "Every sponsor in scope has already been told of this."})
    moment = _now(now)
    form483 = Form483.objects.filter(inspection=inspection).select_related("response_deadline").first()
    for notice in notices:
        own = [line.product.code if line.product else "all products made under the partnership"
               for line in Scope.objects.filter(inspection=inspection, partnership_id=notice.partnership_id)
               .select_related("product")]
        subject = f"{NotificationEvent(event).label}: {inspection.number} at {inspection.site.name}"
        body = (f"{inspection} at {inspection.site.name}. In scope for you: {'; '.join(own)}.")
        if event == NotificationEvent.FDA_483 and form483 is not None and form483.response_deadline is not None:
            body += (f"\n483 issued {form483.issued_on:%d %b %Y}; the response to FDA is due "
                     f"{form483.response_deadline.local_due}.")
        if message.strip():
            body += f"\n\nMessage from {membership.user.printed_name}: {message.strip()}"
        told = clocks.notify_partner(partnership_id=notice.partnership_id, record=inspection, subject=subject,
                                     body=body)
        if not told:
            raise ValidationError({"event": "A sponsor has no active QA member to tell; ask its org admin to add "
                                            "one, and use another channel meanwhile."})
        notice.message, notice.notified_at, notice.notified_by = message.strip(), moment, membership.user
        notice.recipients = told
        notice.save(update_fields=["message", "notified_at", "notified_by", "recipients"])
        if notice.deadline is not None and not notice.deadline.is_closed:
            clocks.deadline_complete(deadline=notice.deadline, at=moment)
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
    inspection = notice.inspection
    clocks.notify_partner(partnership_id=notice.partnership_id, record=inspection,
                          subject=f"{membership.organization.name} acknowledged: {notice.get_event_display()}, "
                                  f"{inspection.number}",
                          body=f"{membership.user.printed_name} acknowledged the notice."
                               + (f"\n\n{note.strip()}" if note.strip() else ""))
    return ack


# --- Track 1: the Form 483 and its response ------------------------------------------------------------------


@transaction.atomic
def form483_record(*, membership: Membership, inspection: Inspection, issued_on: dt.date,
                   update_interval_days: int = 30, now: dt.datetime | None = None) -> Form483:
    """Record the 483 handed over at close-out: the agency response clock and the sponsors' clocks start."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_fda(inspection, "issued_on", "A Form 483")
    _require_state(inspection, [State.IN_PROGRESS, State.CLOSED_OUT], "record a 483")
    if Form483.objects.filter(inspection=inspection).exists():
        raise ValidationError({"issued_on": "This inspection already has its 483; amend it instead."})
    moment = _now(now)
    _not_future(issued_on, "issued_on", moment)
    if inspection.started_on and issued_on < inspection.started_on:
        raise ValidationError({"issued_on": "A 483 is issued on or after the start of the inspection."})
    if not 1 <= update_interval_days <= 180:
        raise ValidationError({"update_interval_days": "Promise updates every 1 to 180 days."})
    form483 = Form483.objects.create(inspection=inspection, organization_id=inspection.organization_id,
                                     issued_on=issued_on, original_issued_on=issued_on,
                                     update_interval_days=update_interval_days, created_by=membership.user)
    form483.response_deadline = clocks.deadline_create(
        organization_id=inspection.organization_id, record=inspection,
        subject_label=f"{inspection.number} 483 response ({inspection.site.name})", rule=FDA_483_RESPONSE,
        starts_at=_moment(issued_on), audience=_agency_audience(inspection), now=moment)
    form483.save(update_fields=["response_deadline"])
    _sync_notices(membership, inspection, moment)
    return form483


@transaction.atomic
def form483_amend(*, membership: Membership, form483: Form483, issued_on: dt.date, reason: str,
                  expected_version: int | None = None, precondition: bool = False,
                  now: dt.datetime | None = None) -> Form483:
    """An amended 483 restarts the 15-business-day count from its issue date (74 FR 40211), with the reason in the
    audit trail of both the 483 and its clock; sponsors already told hear of the new due date."""
    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_drafting(form483, "amend it")
    reason = _text(reason, "amendment_reason", "the reason for the amendment")
    moment = _now(now)
    _not_future(issued_on, "issued_on", moment)
    if issued_on < form483.issued_on:
        raise ValidationError({"issued_on": f"An amended 483 is issued on or after {form483.issued_on:%d %b %Y}."})
    form483.issued_on, form483.amended, form483.amended_on = issued_on, True, issued_on
    form483.amendment_reason = reason
    with reason_for_change(f"483 amended: {reason}"):
        versioned_save(form483, ["issued_on", "amended", "amended_on", "amendment_reason"], expected_version,
                       precondition)
    assert form483.response_deadline is not None  # created with the 483
    deadline = clocks.deadline_restart(deadline=form483.response_deadline, starts_at=_moment(issued_on),
                                       reason=f"amended 483 issued {issued_on:%d %b %Y}: {reason}", now=moment)
    inspection = form483.inspection
    told = Notice.objects.filter(inspection=inspection, event=NotificationEvent.FDA_483, notified_at__isnull=False)
    for notice in told:
        clocks.notify_partner(partnership_id=notice.partnership_id, record=inspection,
                              subject=f"Amended 483: {inspection.number} at {inspection.site.name}",
                              body=f"The 483 was amended (issued {issued_on:%d %b %Y}): {reason}\nThe response to "
                                   f"FDA is now due {deadline.local_due}.")
    return form483


def _observation_sponsors(observation: Observation) -> dict[int, int]:
    """partnership id → sponsor id of the sponsors that see ``observation`` (the visibility rule)."""
    if observation.visibility == Visibility.SITE_WIDE:
        return dict(Scope.objects.filter(inspection_id=observation.inspection_id)
                    .values_list("partnership_id", "sponsor_id").distinct())
    return dict(AffectedProduct.objects.filter(observation=observation)
                .values_list("partnership_id", "sponsor_id").distinct())


@transaction.atomic
def observation_add(*, membership: Membership, form483: Form483, text: str, cited_regulation: str = "",
                    number: int | None = None, subpart: str | None = None, system: str | None = None,
                    accountability: str = Accountability.CMO, accountability_rationale: str = "",
                    visibility: str = Visibility.SITE_WIDE, affected: Sequence[Affected] = ()) -> Observation:
    """Add an observation; its category is suggested from the cited section unless chosen."""
    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_drafting(form483, "add an observation")
    if number is None:
        number = (Observation.objects.filter(form483=form483).aggregate(n=Max("number"))["n"] or 0) + 1
    observation = Observation(form483=form483, inspection_id=form483.inspection_id,
                              organization_id=form483.organization_id, number=number, text=text,
                              cited_regulation=cited_regulation.strip(), accountability=accountability,
                              accountability_rationale=accountability_rationale.strip(), visibility=visibility)
    _suggest(observation, subpart, system, follow=True)
    full_clean_by_field(observation, exclude=["form483", "inspection", "organization", "repeat_of"])
    _check_affected(form483, affected)
    _check_observation(observation, affected)
    _refresh_repeat(observation, form483)
    observation.save()
    _set_affected(observation, affected)
    bump_version(form483)
    return observation


def _suggest(observation: Observation, subpart: str | None, system: str | None, *, follow: bool) -> None:
    """Store the suggestion for the cited section; the chosen values follow it unless given (or, on an edit,
    unless they had been changed from the earlier suggestion)."""
    old_subpart, old_system = observation.suggested_subpart, observation.suggested_system
    suggestion = taxonomy.suggest(observation.cited_regulation)
    observation.suggested_subpart = suggestion.subpart if suggestion else ""
    observation.suggested_system = suggestion.system if suggestion else ""
    observation.taxonomy_version = taxonomy.VERSION if suggestion else ""
    if subpart is not None:
        observation.subpart = subpart
    elif follow or observation.subpart == old_subpart:
        observation.subpart = observation.suggested_subpart
    if system is not None:
        observation.system = system
    elif follow or observation.system == old_system:
        observation.system = observation.suggested_system


def _check_affected(form483: Form483, affected: Sequence[Affected]) -> None:
    in_scope = set(Scope.objects.filter(inspection_id=form483.inspection_id).values_list("partnership_id",
                                                                                         flat=True))
    seen: set[tuple[int, int | None]] = set()
    for index, line in enumerate(affected):
        if (line.partnership_id, line.product_id) in seen:
            raise ValidationError({f"affected.{index}": "This partnership or product is listed twice."})
        seen.add((line.partnership_id, line.product_id))
        if line.partnership_id not in in_scope:
            raise ValidationError({f"affected.{index}": "Name a partnership in the inspection's scope."})
        if line.product_id is not None and not Partnership.products.through.objects.filter(
                partnership_id=line.partnership_id, product_id=line.product_id).exists():
            raise ValidationError({f"affected.{index}": "This product is not in that partnership's scope."})


def _check_observation(observation: Observation, affected: Sequence[Affected]) -> None:
    if not observation.text.strip():
        raise ValidationError({"text": "Give the observation's text as the 483 states it."})
    if observation.accountability in (Accountability.SPONSOR, Accountability.SHARED):
        if not observation.accountability_rationale:
            raise ValidationError({"accountability_rationale": "Say why the sponsor shares or owns the cause (e.g. "
                                                               "a filing that does not match the executed process)."})
        if not affected:
            raise ValidationError({"affected": "Name the sponsor's partnership or product this concerns."})
    if observation.visibility == Visibility.PRODUCT_SPECIFIC and not any(a.product_id for a in affected):
        raise ValidationError({"affected": "A product-specific observation names the products it affects; only "
                                           "their sponsors will see it."})


def _set_affected(observation: Observation, affected: Sequence[Affected]) -> None:
    sponsors = dict(Partnership.objects.filter(pk__in={a.partnership_id for a in affected})
                    .values_list("pk", "sponsor_id"))
    AffectedProduct.objects.filter(observation=observation).delete()
    AffectedProduct.objects.bulk_create([
        AffectedProduct(observation=observation, form483_id=observation.form483_id,
                        organization_id=observation.organization_id, partnership_id=a.partnership_id,
                        sponsor_id=sponsors[a.partnership_id], product_id=a.product_id) for a in affected])
    # An impact assessment stays only for a sponsor that still sees the observation.
    ImpactAssessment.objects.filter(observation=observation).exclude(
        partnership_id__in=list(_observation_sponsors(observation))).delete()


def _refresh_repeat(observation: Observation, form483: Form483) -> None:
    """Repeat: the same 211 subpart cited at the same site in an earlier inspection's 483 (the latest such)."""
    earlier = None
    if observation.subpart:
        earlier = (Observation.objects.filter(
            organization_id=form483.organization_id, subpart=observation.subpart,
            inspection__site_id=form483.inspection.site_id, form483__issued_on__lt=form483.original_issued_on)
            .exclude(inspection_id=form483.inspection_id).select_related("inspection", "form483")
            .order_by("-form483__issued_on", "-number").first())
    observation.is_repeat = earlier is not None
    observation.repeat_of = earlier
    observation.repeat_of_label = (f"{earlier.inspection.number}, observation {earlier.number} (483 of "
                                   f"{earlier.form483.issued_on:%d %b %Y}, subpart {earlier.subpart})"
                                   if earlier is not None else "")


@transaction.atomic
def observation_update(*, membership: Membership, observation: Observation, affected: Sequence[Affected] | None = None,
                       expected_version: int | None = None, precondition: bool = False,
                       **changes: Any) -> Observation:
    """Edit an observation while drafting (``expected_version`` is the 483's: the observations are its content)."""
    form483 = observation.form483
    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_drafting(form483, "edit an observation")
    unknown = set(changes) - set(OBSERVATION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    for name in ("cited_regulation", "accountability_rationale"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    subpart, system = changes.pop("subpart", None), changes.pop("system", None)
    for name, value in changes.items():
        setattr(observation, name, value)
    _suggest(observation, subpart, system, follow=False)
    full_clean_by_field(observation, exclude=["form483", "inspection", "organization", "repeat_of"])
    lines = list(affected) if affected is not None else [
        Affected(a.partnership_id, a.product_id) for a in observation.affected.all()]
    _check_affected(form483, lines)
    _check_observation(observation, lines)
    _refresh_repeat(observation, form483)
    bump_version(form483, expected_version, precondition)
    observation.save()
    if affected is not None or "visibility" in changes:
        _set_affected(observation, lines)
    return observation


@transaction.atomic
def response_draft(*, membership: Membership, observation: Observation, commitment: str, actions: str,
                   target_on: dt.date | None = None, evidence: str = "", expected_version: int | None = None,
                   precondition: bool = False) -> Observation:
    """Draft the response to one observation; any edit after signing voids the signatures (database trigger)."""
    form483 = observation.form483
    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_drafting(form483, "draft the response")
    observation.response_commitment = _text(commitment, "commitment", "the commitment")
    observation.response_actions = _text(actions, "actions", "the actions taken and planned")
    observation.response_target_on, observation.response_evidence = target_on, evidence.strip()
    if target_on is not None and target_on < form483.issued_on:
        raise ValidationError({"target_on": "A target date comes after the 483."})
    bump_version(form483, expected_version, precondition)
    observation.save(update_fields=["response_commitment", "response_actions", "response_target_on",
                                    "response_evidence"])
    return observation


@transaction.atomic
def impact_assess(*, membership: Membership, observation: Observation, partnership_id: int, impact: str,
                  rationale: str) -> ImpactAssessment:
    """The CMO's program impact of one observation on one sponsor that sees it (re-assessing is audited)."""
    _require_owner(membership, observation.form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if impact not in ImpactAssessment.Impact.values:
        raise ValidationError({"impact": "Choose no impact, indirect or direct."})
    rationale = _text(rationale, "rationale", "the rationale for the impact")
    sponsors = _observation_sponsors(observation)
    if partnership_id not in sponsors:
        raise ValidationError({"partnership": "This sponsor does not see this observation: assess the impact for "
                                              "a sponsor in its scope (site-wide) or of an affected product."})
    row = ImpactAssessment.objects.filter(observation=observation, partnership_id=partnership_id).first()
    if row is None:
        return ImpactAssessment.objects.create(
            observation=observation, organization_id=observation.organization_id, partnership_id=partnership_id,
            sponsor_id=sponsors[partnership_id], impact=impact, rationale=rationale, assessed_by=membership.user,
            assessed_by_name=membership.user.printed_name)
    row.impact, row.rationale, row.assessed_by = impact, rationale, membership.user
    row.assessed_by_name, row.assessed_at = membership.user.printed_name, timezone.now()
    with reason_for_change(f"impact re-assessed: {rationale}"):
        row.save(update_fields=["impact", "rationale", "assessed_by", "assessed_by_name", "assessed_at"])
    return row


@transaction.atomic
def capa_create_for(*, membership: Membership, observation: Observation, title: str, description: str) -> CapaLink:
    """Raise a CAPA from an observation (source "FDA 483 observation") and link it."""
    from capa import services as capa_services

    _require_owner(membership, observation.form483)
    capa = capa_services.capa_create(
        membership=membership, title=title, description=description, source=Capa.Source.OBSERVATION_483,
        source_reference=f"{observation.form483.inspection.number} 483 observation {observation.number}")
    return capa_link(membership=membership, observation=observation, capa=capa)


@transaction.atomic
def capa_link(*, membership: Membership, observation: Observation, capa: Capa) -> CapaLink:
    """Link one of the CMO's CAPAs (not cancelled) to an observation."""
    _require_owner(membership, observation.form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if capa.organization_id != observation.organization_id:
        raise ValidationError({"capa": "Link one of your organization's CAPAs."})
    if capa.state == Capa.State.CANCELLED:
        raise ValidationError({"capa": f"{capa.number} is cancelled."})
    if CapaLink.objects.filter(observation=observation, capa=capa).exists():
        raise ValidationError({"capa": f"{capa.number} is already linked to this observation."})
    return CapaLink.objects.create(observation=observation, organization_id=observation.organization_id, capa=capa,
                                   capa_number=capa.number, capa_title=capa.title[:200], linked_by=membership.user)


def participates(inspection: Inspection, organization_id: int) -> bool:
    """Whether a sponsor takes part in the response: its application is what this PAI/PLI reviews."""
    return inspection.inspection_type in APPLICATION_TYPES and Scope.objects.filter(
        inspection=inspection, sponsor_id=organization_id).exclude(application_reference="").exists()


@transaction.atomic
def comment_add(*, membership: Membership, observation: Observation, body: str,
                sponsor_id: int | None = None) -> ResponseComment:
    """The participating sponsor's comment on a draft response, or the CMO's answer in that sponsor's thread."""
    from inspections.selectors import observation_list

    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    form483 = observation.form483
    inspection = form483.inspection
    org = membership.organization_id
    if not observation_list(membership=membership).filter(pk=observation.pk).exists():
        raise PermissionDenied("You cannot see this observation.")
    if org == observation.organization_id:
        if sponsor_id is None or not participates(inspection, sponsor_id):
            raise ValidationError({"sponsor": "Answer a sponsor whose application this inspection reviews."})
    else:
        if not participates(inspection, org):
            why = ("your application is not the one this inspection reviews" if inspection.inspection_type
                   in APPLICATION_TYPES else f"this is a {inspection.get_inspection_type_display().lower()} "
                                             "inspection")
            raise ValidationError({"observation": f"Only the sponsor whose application a pre-approval inspection "
                                                  f"reviews comments on the response; {why}. You are notified and "
                                                  "see the impact assessment for your products."})
        sponsor_id = org
    _require_drafting(form483, "comment on the response")
    body = _text(body, "body", "the comment")
    comment = ResponseComment.objects.create(
        observation=observation, inspection=inspection, organization_id=org, cmo_id=observation.organization_id,
        sponsor_id=sponsor_id, body=body, author=membership.user, author_name=membership.user.printed_name)
    partnership_id = (Scope.objects.filter(inspection=inspection, sponsor_id=sponsor_id)
                      .exclude(application_reference="").values_list("partnership_id", flat=True).first())
    assert partnership_id is not None  # participates() found that line
    clocks.notify_partner(partnership_id=partnership_id, record=inspection,
                          subject=f"Comment on the 483 response, {inspection.number} observation "
                                  f"{observation.number}, from {membership.organization.name}", body=body)
    return comment


def form483_sign(*, request: Any, membership: Membership, form483: Form483, step: str, password: str,
                 otp: str | None = None) -> Any:
    """Sign the response: ``review`` (a QA reviewer, meaning "reviewed") then ``approve`` (a different QA approver).

    Not wrapped in a transaction of its own: a wrong password must stay recorded (lockout counts it) while the
    signature is refused; ``signatures.sign`` makes the signature atomic."""
    from part11 import signatures

    _require_owner(membership, form483)
    return signatures.sign(request=request, membership=membership, record=form483, step=step, password=password,
                           otp=otp)


def open_commitments(form483: Form483) -> list[Observation]:
    return list(Observation.objects.filter(form483=form483, closure__isnull=True).exclude(response_commitment="")
                .order_by("number"))


@transaction.atomic
def form483_submit(*, membership: Membership, form483: Form483, submitted_at: dt.datetime | None = None,
                   now: dt.datetime | None = None) -> Form483:
    """Record the response as sent to FDA, after its approval signature. Late is recorded as late."""
    from part11 import signatures

    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_drafting(form483, "submit it")
    if not signatures.signatures_of(form483).filter(step="approve", voided_at__isnull=True).exists():
        raise ValidationError({"state": "The response needs its review and approval signatures (live) first."})
    moment = _now(now)
    at = submitted_at or moment
    if at > moment + dt.timedelta(minutes=5):
        raise ValidationError({"submitted_at": "The submission time cannot be in the future."})
    if at.date() < form483.issued_on:
        raise ValidationError({"submitted_at": "A response is submitted after its 483 is issued."})
    deadline = form483.response_deadline
    assert deadline is not None  # created with the 483
    form483.state, form483.submitted_at, form483.submitted_by = Form483.State.SUBMITTED, at, membership.user
    form483.submitted_late = at > deadline.due_at
    why = "late: after the 15-business-day window" if form483.submitted_late else "within the window"
    with reason_for_change(f"483 response submitted {why}"):
        versioned_save(form483, ["state", "submitted_at", "submitted_by_id", "submitted_late"], None, False)
    if not deadline.is_closed:
        clocks.deadline_complete(deadline=deadline, at=at)
    if open_commitments(form483):
        _schedule_update(form483, 1, at, "483 response submitted", moment)
    else:
        _close(form483, at)
    return form483


def _schedule_update(form483: Form483, sequence: int, start: dt.datetime, start_event: str,
                     now: dt.datetime) -> UpdateCommitment:
    rule = Rule(code="fda_483_update", title="Periodic update to FDA on 483 commitments",
                amount=form483.update_interval_days, unit=Unit.CALENDAR_DAYS, calendar=None, start_event=start_event,
                stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS, escalate=(1,)))
    inspection = form483.inspection
    deadline = clocks.deadline_create(organization_id=form483.organization_id, record=inspection,
                                      subject_label=f"{inspection.number} 483 update {sequence}", rule=rule,
                                      starts_at=start, audience=_agency_audience(inspection), now=now)
    return UpdateCommitment.objects.create(form483=form483, organization_id=form483.organization_id,
                                           sequence=sequence, deadline=deadline, due_on=deadline.due_at.date())


def _close(form483: Form483, at: dt.datetime) -> None:
    form483.state, form483.closed_at = Form483.State.CLOSED, at
    versioned_save(form483, ["state", "closed_at"], None, False)


@transaction.atomic
def update_record(*, membership: Membership, form483: Form483, summary: str, submitted_at: dt.datetime | None = None,
                  now: dt.datetime | None = None) -> UpdateCommitment:
    """Record the periodic update sent to FDA: meets its clock (late recorded); the next one is due an interval
    after this one's due date while any commitment remains open."""
    _require_owner(membership, form483)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    current = UpdateCommitment.objects.filter(form483=form483, submitted_at__isnull=True, cancelled_reason="") \
        .select_related("deadline").order_by("sequence").first()
    if form483.state != Form483.State.SUBMITTED or current is None:
        raise ValidationError({"state": "No periodic update is due on this 483."})
    moment = _now(now)
    at = submitted_at or moment
    if at > moment + dt.timedelta(minutes=5):
        raise ValidationError({"submitted_at": "The submission time cannot be in the future."})
    current.summary = _text(summary, "summary", "what the update reported")
    current.submitted_at, current.submitted_by = at, membership.user
    assert current.deadline is not None  # created with the update
    current.submitted_late = at > current.deadline.due_at
    current.save(update_fields=["summary", "submitted_at", "submitted_by", "submitted_late"])
    if not current.deadline.is_closed:
        clocks.deadline_complete(deadline=current.deadline, at=at)
    if open_commitments(form483):
        _schedule_update(form483, current.sequence + 1, current.deadline.due_at,
                         f"update {current.sequence} due", moment)
    else:
        _close(form483, at)
    return current


@transaction.atomic
def commitment_close(*, membership: Membership, observation: Observation, closed_on: dt.date, evidence: str,
                     now: dt.datetime | None = None) -> CommitmentClosure:
    """Close one observation's commitment after submission; the last one closes the 483 and its update clock.
    The 483 is read again, locked: two commitments closed at once must not both miss being the last."""
    form483 = Form483.objects.select_for_update().select_related("inspection").get(pk=observation.form483_id)
    _require_owner(membership, form483)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if form483.state != Form483.State.SUBMITTED:
        raise ValidationError({"state": "Commitments are closed after the response is submitted."})
    if not observation.has_commitment:
        raise ValidationError({"observation": "This observation's response made no commitment."})
    if CommitmentClosure.objects.filter(observation=observation).exists():
        raise ValidationError({"observation": "This commitment is already closed."})
    moment = _now(now)
    _not_future(closed_on, "closed_on", moment)
    closure = CommitmentClosure.objects.create(
        observation=observation, form483=form483, organization_id=form483.organization_id, closed_on=closed_on,
        evidence=_text(evidence, "evidence", "the evidence the commitment is met"), closed_by=membership.user,
        closed_by_name=membership.user.printed_name)
    if not open_commitments(form483):
        for update in UpdateCommitment.objects.filter(form483=form483, submitted_at__isnull=True,
                                                      cancelled_reason="").select_related("deadline"):
            update.cancelled_reason = "All commitments closed; no further update is due."
            update.save(update_fields=["cancelled_reason"])
            if update.deadline is not None and not update.deadline.is_closed:
                clocks.deadline_cancel(deadline=update.deadline, reason=update.cancelled_reason)
        _close(form483, moment)
    return closure


# --- Warning Letter ---------------------------------------------------------------------------------------------


@transaction.atomic
def warning_letter_record(*, membership: Membership, inspection: Inspection, issued_on: dt.date,
                          now: dt.datetime | None = None) -> Inspection:
    """A Warning Letter: the reply is due in 15 working days; each sponsor in scope gets its notice clock."""
    _require_owner(membership, inspection)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_fda(inspection, "warning_letter_issued_on", "A Warning Letter")
    _require_state(inspection, [State.CLOSED_OUT, State.CLOSED], "record a Warning Letter")
    if inspection.warning_letter_issued_on is not None:
        raise ValidationError({"warning_letter_issued_on": "A Warning Letter is already recorded."})
    moment = _now(now)
    _not_future(issued_on, "warning_letter_issued_on", moment)
    if inspection.closed_out_on and issued_on < inspection.closed_out_on:
        raise ValidationError({"warning_letter_issued_on": "A Warning Letter follows the inspection's close-out."})
    inspection.warning_letter_issued_on = issued_on
    inspection.warning_letter_deadline = clocks.deadline_create(
        organization_id=inspection.organization_id, record=inspection,
        subject_label=f"{inspection.number} Warning Letter reply", rule=WARNING_LETTER_RESPONSE,
        starts_at=_moment(issued_on), audience=_agency_audience(inspection), now=moment)
    versioned_save(inspection, ["warning_letter_issued_on", "warning_letter_deadline_id"], None, False)
    _sync_notices(membership, inspection, moment)
    return inspection


@transaction.atomic
def warning_letter_respond(*, membership: Membership, inspection: Inspection,
                           responded_at: dt.datetime | None = None, now: dt.datetime | None = None) -> Inspection:
    _require_owner(membership, inspection)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    deadline = inspection.warning_letter_deadline
    if deadline is None or inspection.warning_letter_responded_at is not None:
        raise ValidationError({"warning_letter_responded_at": "There is no Warning Letter awaiting a reply."})
    moment = _now(now)
    at = responded_at or moment
    if at > moment + dt.timedelta(minutes=5):
        raise ValidationError({"warning_letter_responded_at": "The reply time cannot be in the future."})
    inspection.warning_letter_responded_at = at
    versioned_save(inspection, ["warning_letter_responded_at"], None, False)
    if not deadline.is_closed:
        clocks.deadline_complete(deadline=deadline, at=at)
    return inspection


@transaction.atomic
def warning_letter_close(*, membership: Membership, inspection: Inspection, closed_on: dt.date,
                         now: dt.datetime | None = None) -> Inspection:
    """FDA's close-out letter for the Warning Letter."""
    _require_owner(membership, inspection)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if inspection.warning_letter_responded_at is None or inspection.warning_letter_closed_on is not None:
        raise ValidationError({"warning_letter_closed_on": "Only a replied, open Warning Letter is closed out."})
    _not_future(closed_on, "warning_letter_closed_on", _now(now))
    inspection.warning_letter_closed_on = closed_on
    versioned_save(inspection, ["warning_letter_closed_on"], None, False)
    return inspection
