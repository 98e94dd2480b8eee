"""Writes for CAPA (DESIGN.md §5): each in one transaction with its audit event and clocks.

Closure is a signature (``close``) and is refused until every action is done and the effectiveness check has
passed, or is scheduled and the procedure that allows closing before it is recorded. A failed effectiveness
check reopens a closed CAPA: the problem was not solved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from capa.models import Capa, CapaAction
from clocks import services as clocks
from clocks.calendars import Unit
from clocks.models import Deadline
from clocks.rules import Rule, reminders
from deviations.models import Deviation
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import bump_version, versioned_save
from tenants.models import Membership
from tenants.numbering import next_number
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY

EDITABLE = ("title", "description", "source_reference")


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, capa: Capa) -> None:
    if capa.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)


def _require_open(capa: Capa, action: str) -> None:
    if capa.state != Capa.State.OPEN:
        raise ValidationError({"state": f"Cannot {action}: {capa.number} is {capa.get_state_display().lower()}."})


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Give {what}."})
    return text


def _clock(capa: Capa, record: Any, title: str, due_date: dt.date, start_event: str, code: str) -> Any:
    """A clock due at the end of ``due_date`` (calendar days from today), owned by the CAPA's organization."""
    days = (due_date - timezone.localdate()).days
    rule = Rule(code=code, title=title, amount=max(days, 0), unit=Unit.CALENDAR_DAYS, calendar=None,
                start_event=start_event, stages=reminders(7, 1, unit=Unit.CALENDAR_DAYS, escalate=(1,)))
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return clocks.deadline_create(organization_id=capa.organization_id, record=record, subject_label=str(capa),
                                  rule=rule, starts_at=start, audience=[])


@transaction.atomic
def capa_create(*, membership: Membership, title: str, description: str, source: str,
                source_deviation: Deviation | None = None, source_reference: str = "") -> Capa:
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if source == Capa.Source.DEVIATION and source_deviation is None:
        raise ValidationError({"source_deviation": "Name the deviation this CAPA answers."})
    if source != Capa.Source.DEVIATION and source_deviation is not None:
        raise ValidationError({"source": "A CAPA linked to a deviation has the source “deviation”."})
    if source in (Capa.Source.AUDIT_FINDING, Capa.Source.OBSERVATION_483, Capa.Source.COMPLAINT) and \
            not source_reference.strip():
        raise ValidationError({"source_reference": "Give the finding, observation or complaint reference."})
    capa = Capa(organization_id=membership.organization_id, title=title, description=description, source=source,
                source_deviation=source_deviation, source_reference=source_reference.strip(),
                created_by=membership.user, number="CAPA-pending")
    full_clean_by_field(capa, exclude=["organization", "created_by", "source_deviation", "effectiveness_deadline"])
    capa.number = next_number(membership.organization_id, "CAPA", timezone.localdate())
    capa.save()
    return capa


@transaction.atomic
def capa_update(*, membership: Membership, capa: Capa, expected_version: int | None = None,
                precondition: bool = False, **changes: Any) -> Capa:
    _require_owner(membership, capa)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_open(capa, "edit it")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    changed = [name for name, value in changes.items() if getattr(capa, name) != value]
    for name in changed:
        setattr(capa, name, changes[name])
    full_clean_by_field(capa, exclude=["organization", "created_by", "source_deviation", "effectiveness_deadline"])
    versioned_save(capa, changed, expected_version, precondition)
    return capa


@transaction.atomic
def action_add(*, membership: Membership, capa: Capa, kind: str, description: str, owner: Membership,
               due_date: dt.date) -> CapaAction:
    _require_owner(membership, capa)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_open(capa, "add an action")
    if owner.organization_id != capa.organization_id or not owner.is_active:
        raise ValidationError({"owner": "The owner must be an active member of your organization."})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": "The due date cannot be in the past."})
    action = CapaAction(capa=capa, organization_id=capa.organization_id, kind=kind, description=description.strip(),
                        owner=owner, owner_name=owner.user.printed_name, due_date=due_date)
    full_clean_by_field(action, exclude=["capa", "organization", "owner", "deadline"])
    action.save()
    action.deadline = _clock(capa, action, f"CAPA action due ({action.get_kind_display().lower()})", due_date,
                             "action assigned", "capa_action")
    action.deadline.assignee = owner
    action.deadline.save(update_fields=["assignee"])
    action.save(update_fields=["deadline"])
    bump_version(capa)  # actions are part of the CAPA's content
    return action




@transaction.atomic
def action_complete(*, membership: Membership, action: CapaAction, evidence: str) -> CapaAction:
    capa = action.capa
    _require_owner(membership, capa)
    if not (action.owner_id == membership.pk or can(membership, Capability.AUTHOR_QUALITY_RECORDS)):
        raise PermissionDenied("Only the action's owner or a QA author marks it done.")
    _require_open(capa, "complete an action")
    if action.is_done:
        raise ValidationError({"evidence": "This action is already done."})
    action.evidence = _text(evidence, "evidence", "the completion evidence")
    action.completed_at, action.completed_by = timezone.now(), membership.user
    action.save(update_fields=["evidence", "completed_at", "completed_by"])
    if action.deadline is not None and not action.deadline.is_closed:
        clocks.deadline_complete(deadline=action.deadline, at=action.completed_at)
    bump_version(capa)  # actions are part of the CAPA's content
    return action


@transaction.atomic
def effectiveness_plan(*, membership: Membership, capa: Capa, criteria: str, due_date: dt.date,
                       close_before_check: str = "") -> Capa:
    """Set what will show the CAPA worked and when it is checked (a clock); optionally the procedure that allows
    closing before the check."""
    _require_owner(membership, capa)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_open(capa, "plan the effectiveness check")
    if capa.effectiveness in (Capa.Effectiveness.PASSED,):
        raise ValidationError({"effectiveness": "The effectiveness check has already passed."})
    criteria = _text(criteria, "effectiveness_criteria", "the effectiveness criteria")
    if due_date <= timezone.localdate():
        raise ValidationError({"effectiveness_due": "Schedule the check after today."})
    if capa.effectiveness_deadline is not None and not capa.effectiveness_deadline.is_closed:
        clocks.deadline_cancel(deadline=capa.effectiveness_deadline, reason="effectiveness check re-planned")
    capa.effectiveness_criteria, capa.effectiveness_due = criteria, due_date
    capa.close_before_check = close_before_check.strip()
    capa.effectiveness = Capa.Effectiveness.SCHEDULED
    capa.effectiveness_deadline = _clock(capa, capa, "CAPA effectiveness check", due_date,
                                         "effectiveness check planned", "capa_effectiveness")
    versioned_save(capa, ["effectiveness_criteria", "effectiveness_due", "close_before_check", "effectiveness",
                          "effectiveness_deadline_id"], None, False)
    return capa


@transaction.atomic
def effectiveness_record(*, membership: Membership, capa: Capa, passed: bool, note: str) -> Capa:
    """Record the check's result. A failure on a closed CAPA reopens it (signatures void: it changed)."""
    _require_owner(membership, capa)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    if capa.effectiveness != Capa.Effectiveness.SCHEDULED:
        raise ValidationError({"effectiveness": "Plan the effectiveness check first (criteria and due date)."})
    if capa.state == Capa.State.CANCELLED:
        raise ValidationError({"state": f"{capa.number} is cancelled."})
    note = _text(note, "effectiveness_note", "what the check found")
    capa.effectiveness = Capa.Effectiveness.PASSED if passed else Capa.Effectiveness.FAILED
    capa.effectiveness_note, capa.effectiveness_checked_at = note, timezone.now()
    capa.effectiveness_checked_by = membership.user
    fields = ["effectiveness", "effectiveness_note", "effectiveness_checked_at", "effectiveness_checked_by_id"]
    if not passed and capa.state == Capa.State.CLOSED:
        capa.state, capa.closed_at = Capa.State.OPEN, None
        fields += ["state", "closed_at"]
    if capa.effectiveness_deadline is not None and not capa.effectiveness_deadline.is_closed:
        clocks.deadline_complete(deadline=capa.effectiveness_deadline, at=capa.effectiveness_checked_at)
    with reason_for_change(f"effectiveness check {'passed' if passed else 'failed'}: {note}"):
        versioned_save(capa, fields, None, False)
    return capa


def closure_refusal(capa: Capa) -> str | None:
    """Why the CAPA cannot be closed yet (None: it can)."""
    if capa.state != Capa.State.OPEN:
        return f"{capa.number} is {capa.get_state_display().lower()}."
    actions = list(capa.actions.all())
    if not actions:
        return "Add at least one corrective or preventive action."
    open_actions = [a for a in actions if not a.is_done]
    if open_actions:
        return f"{len(open_actions)} action{'s are' if len(open_actions) > 1 else ' is'} not done yet."
    if capa.effectiveness == Capa.Effectiveness.PASSED:
        return None
    if capa.effectiveness == Capa.Effectiveness.SCHEDULED and capa.close_before_check:
        return None
    if capa.effectiveness == Capa.Effectiveness.FAILED:
        return "The effectiveness check failed: add actions, then plan a new check."
    return ("The effectiveness check must pass first, or be scheduled with the procedure that allows closing "
            "before it recorded.")


def on_signed(capa: Capa, signature: Any) -> None:
    if signature.step == "close":
        capa.state, capa.closed_at = Capa.State.CLOSED, signature.signed_at
        versioned_save(capa, ["state", "closed_at"], None, False)
    elif signature.step == "cancel":
        capa.state = Capa.State.CANCELLED
        versioned_save(capa, ["state"], None, False)
        actions = list(capa.actions.values_list("pk", flat=True))
        for deadline in Deadline.objects.filter(
                Q(record_table="capa_capa", record_id=capa.pk) | Q(record_table="capa_capaaction",
                                                                   record_id__in=actions),
                organization_id=capa.organization_id, state=Deadline.State.OPEN, completed_at__isnull=True):
            clocks.deadline_cancel(deadline=deadline, reason=f"{capa.number} cancelled: {capa.cancel_reason}")

def capa_sign_close(*, request: Any, membership: Membership, capa: Capa, password: str, otp: str | None = None
                    ) -> Any:
    """No transaction of its own: a refused signature's failed attempt must stay recorded (see deviations)."""
    from part11 import signatures

    _require_owner(membership, capa)
    return signatures.sign(request=request, membership=membership, record=capa, step="close", password=password,
                           otp=otp)


def capa_cancel(*, request: Any, membership: Membership, capa: Capa, reason: str, password: str,
                otp: str | None = None) -> Any:
    from part11 import signatures

    _require_owner(membership, capa)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_open(capa, "cancel it")
    capa.cancel_reason = _text(reason, "reason", "the reason for cancelling")
    versioned_save(capa, ["cancel_reason"], None, False)
    return signatures.sign(request=request, membership=membership, record=capa, step="cancel", password=password,
                           otp=otp)
