"""Writes for batches (DESIGN.md §5): every change goes through here, in one transaction with its audit event, its
clock and its notices.

The release chain comes from the partnership's release model (``agreements.selectors.effective_terms``):

- CMO release, then sponsor release: the CMO's QA releases (signed "released"), then the sponsor releases;
- sponsor-only release: the CMO's QA reviews the record and sends it (signed "reviewed"), the sponsor releases;
- QP certification: the CMO's QA releases, then the sponsor's QP certifies (signed "certified").

Either party may reject instead (signed, with the reason). A release or certification is refused while a linked
deviation is open, unless the approver signs a conditional release with a justification; a failing QC result or a
missing executed batch record or certificate of analysis refuses it outright. The sponsor decides within the
agreement's review window (a clock from the moment the CMO sends the batch), and its open queries must be
closed before it releases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agreements.catalogue import ReleaseModel
from agreements.selectors import effective_terms
from batches import selectors
from batches.models import Batch, ChangeInEffect, Disposition, Document, QcResult, Query, QueryMessage
from clocks import services as clocks
from clocks.calendars import CalendarCode, Unit
from clocks.rules import Rule, reminders
from part11.audit import reason_for_change
from qms.validation import full_clean_by_field
from qms.versioning import bump_version, versioned_save
from tenants import files
from tenants.models import Membership, Partnership, Product, Site
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY

State = Batch.State
Step, Decision = Disposition.Step, Disposition.Decision
HEADER_FIELDS = ("lot_number", "site", "manufactured_on", "completed_on", "expiry_date", "quantity", "unit",
                 "planned_delivery_date")
#: Where a site is, which working days the sponsor's review window counts.
EU_COUNTRIES = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"))


@dataclass(frozen=True)
class QcLine:
    test: str
    specification: str
    result: str
    passed: bool = True
    oos: bool = False


@dataclass(frozen=True)
class ChangeLine:
    reference: str
    title: str


# --- Guards -----------------------------------------------------------------------------------------------------


def _require(membership: Membership, capability: Capability) -> None:
    if not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")


def _require_owner(membership: Membership, batch: Batch) -> None:
    if batch.organization_id != membership.organization_id:
        raise PermissionDenied(PARTNER_READ_ONLY)


def _require_state(batch: Batch, allowed: Sequence[str], action: str) -> None:
    if batch.state not in allowed:
        names = " or ".join(State(s).label.lower() for s in allowed)
        raise ValidationError({"state": f"Cannot {action}: {batch} is {batch.get_state_display().lower()}; "
                                        f"this needs it {names}."})


def _require_record_editable(batch: Batch, field: str) -> None:
    if not batch.record_editable:
        raise ValidationError({field: f"{batch} is {batch.get_state_display().lower()}: its record is locked "
                                      "once the CMO's quality unit has decided. Answer in a query instead."})


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Give {what}; it is recorded in the audit trail."})
    return text


# --- Register and edit -------------------------------------------------------------------------------------------


def partnership_for(organization_id: int, product: Product) -> Partnership:
    partnership = Partnership.objects.filter(cmo_id=organization_id, products=product).first()
    if partnership is None:
        raise ValidationError({"product": "This product is not one your organization makes for a sponsor (no "
                                          "partnership names it)."})
    return partnership


def _check_site(partnership: Partnership, site: Site | None) -> Site:
    if site is None or site.organization_id != partnership.cmo_id:
        raise ValidationError({"site": "Choose one of your organization's sites."})
    if not partnership.sites.filter(pk=site.pk).exists():
        raise ValidationError({"site": f"{site.name} is not a site of the partnership with "
                                       f"{partnership.sponsor.name}; the sponsor has not agreed to it."})
    return site


def _validate(batch: Batch) -> None:
    full_clean_by_field(batch, exclude=["organization", "partnership", "sponsor", "product", "site", "created_by",
                                        "submitted_by", "review_deadline"])
    if batch.completed_on and batch.completed_on < batch.manufactured_on:
        raise ValidationError({"completed_on": "Manufacturing cannot end before it starts."})
    if batch.expiry_date and batch.expiry_date <= batch.manufactured_on:
        raise ValidationError({"expiry_date": "The expiry date must be after manufacture."})
    if batch.manufactured_on > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError({"manufactured_on": "Manufacturing cannot start in the future."})


def _save_new(batch: Batch) -> None:
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        raise ValidationError({"lot_number": f"Lot {batch.lot_number} is already registered for "
                                             f"{batch.product.code}."}) from None


@transaction.atomic
def batch_create(*, membership: Membership, product: Product, site: Site, lot_number: str,
                 manufactured_on: dt.date, quantity: Decimal, unit: str, completed_on: dt.date | None = None,
                 expiry_date: dt.date | None = None, planned_delivery_date: dt.date | None = None) -> Batch:
    """Register a batch the CMO makes for a sponsor: its partnership follows from the product."""
    _require(membership, Capability.RECORD_OPERATIONS)
    if not membership.organization.is_cmo:
        raise PermissionDenied("Batches are registered by the CMO that makes them; a sponsor reviews them.")
    partnership = partnership_for(membership.organization_id, product)
    batch = Batch(organization_id=membership.organization_id, partnership=partnership,
                  sponsor_id=partnership.sponsor_id, product=product, site=_check_site(partnership, site),
                  lot_number=(lot_number or "").strip(), manufactured_on=manufactured_on, completed_on=completed_on,
                  expiry_date=expiry_date, quantity=quantity, unit=(unit or "").strip(),
                  planned_delivery_date=planned_delivery_date,
                  release_model=effective_terms(partnership).release_model, created_by=membership.user)
    _validate(batch)
    _save_new(batch)
    return batch


@transaction.atomic
def batch_update(*, membership: Membership, batch: Batch, expected_version: int | None = None,
                 precondition: bool = False, **changes: Any) -> Batch:
    """Correct the batch's data while its record is still open (before the CMO's quality unit decides)."""
    _require_owner(membership, batch)
    _require(membership, Capability.RECORD_OPERATIONS if batch.state == State.IN_PRODUCTION
             else Capability.AUTHOR_QUALITY_RECORDS)
    unknown = set(changes) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    _require_record_editable(batch, sorted(changes)[0] if changes else "state")
    if "site" in changes:
        _check_site(batch.partnership, changes["site"])
    changed = [name for name, value in changes.items() if getattr(batch, name) != value]
    for name in changed:
        setattr(batch, name, changes[name])
    _validate(batch)
    try:
        with transaction.atomic():
            versioned_save(batch, [("site_id" if n == "site" else n) for n in changed], expected_version,
                           precondition)
    except IntegrityError:
        raise ValidationError({"lot_number": f"Lot {batch.lot_number} is already registered for "
                                             f"{batch.product.code}."}) from None
    return batch


@transaction.atomic
def batch_record_delivery(*, membership: Membership, batch: Batch, actual_delivery_date: dt.date,
                          expected_version: int | None = None, precondition: bool = False) -> Batch:
    """The date the released batch reached the sponsor (on-time-in-full counts it against the planned date)."""
    _require_owner(membership, batch)
    _require(membership, Capability.RECORD_OPERATIONS)
    _require_state(batch, [State.RELEASED, State.CONDITIONALLY_RELEASED], "record its delivery")
    if actual_delivery_date > timezone.localdate():
        raise ValidationError({"actual_delivery_date": "A delivery cannot be recorded in the future."})
    if actual_delivery_date < batch.manufactured_on:
        raise ValidationError({"actual_delivery_date": "A batch cannot be delivered before it is made."})
    batch.actual_delivery_date = actual_delivery_date
    versioned_save(batch, ["actual_delivery_date"], expected_version, precondition)
    return batch


@transaction.atomic
def qc_results_set(*, membership: Membership, batch: Batch, results: Sequence[QcLine],
                   expected_version: int | None = None, precondition: bool = False) -> Batch:
    """Replace the QC results summary (the certificate of analysis, as data)."""
    _require_owner(membership, batch)
    _require(membership, Capability.RECORD_OPERATIONS)
    _require_record_editable(batch, "results")
    rows = []
    for index, line in enumerate(results):
        row = QcResult(batch=batch, organization_id=batch.organization_id, sponsor_id=batch.sponsor_id,
                       partnership_id=batch.partnership_id, position=index, test=line.test.strip(),
                       specification=line.specification.strip(), result=line.result.strip(), passed=line.passed,
                       oos=line.oos)
        try:
            full_clean_by_field(row, exclude=["batch", "organization", "sponsor", "partnership"])
        except ValidationError as exc:
            raise ValidationError({f"results.{index}.{field}": errors
                                   for field, errors in exc.message_dict.items()}) from None
        rows.append(row)
    bump_version(batch, expected_version, precondition)
    QcResult.objects.filter(batch=batch).delete()
    QcResult.objects.bulk_create(rows)
    return batch


@transaction.atomic
def changes_set(*, membership: Membership, batch: Batch, changes: Sequence[ChangeLine],
                expected_version: int | None = None, precondition: bool = False) -> Batch:
    """Replace the list of change controls in effect for the batch."""
    _require_owner(membership, batch)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    _require_record_editable(batch, "changes")
    rows, seen = [], set()
    for index, line in enumerate(changes):
        reference = line.reference.strip()
        if reference.lower() in seen:
            raise ValidationError({f"changes.{index}.reference": "This change is listed twice."})
        seen.add(reference.lower())
        row = ChangeInEffect(batch=batch, organization_id=batch.organization_id, sponsor_id=batch.sponsor_id,
                             partnership_id=batch.partnership_id, reference=reference, title=line.title.strip())
        try:
            full_clean_by_field(row, exclude=["batch", "organization", "sponsor", "partnership"])
        except ValidationError as exc:
            raise ValidationError({f"changes.{index}.{field}": errors
                                   for field, errors in exc.message_dict.items()}) from None
        rows.append(row)
    bump_version(batch, expected_version, precondition)
    ChangeInEffect.objects.filter(batch=batch).delete()
    ChangeInEffect.objects.bulk_create(rows)
    return batch


@transaction.atomic
def document_add(*, membership: Membership, batch: Batch, kind: str, upload: Any, title: str = "") -> Document:
    """Attach a document to the batch record (the upload rules of tenants.files apply); a new executed batch record
    or certificate of analysis supersedes the previous one, which stays on record."""
    _require_owner(membership, batch)
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": "Choose the executed batch record, the certificate of analysis or other."})
    _require_record_editable(batch, "file")
    stored = files.file_store(membership=membership, record=batch, upload=upload)
    if kind != Document.Kind.OTHER and stored.mime_type != "application/pdf":
        raise ValidationError({"file": f"The {Document.Kind(kind).label.lower()} must be a PDF."})
    if kind != Document.Kind.OTHER:
        Document.objects.filter(batch=batch, kind=kind, superseded=False).update(superseded=True)
    document = Document.objects.create(batch=batch, organization_id=batch.organization_id,
                                       sponsor_id=batch.sponsor_id, partnership_id=batch.partnership_id, kind=kind,
                                       file=stored, title=(title or "").strip()[:200], uploaded_by=membership.user)
    bump_version(batch)
    return document


# --- Workflow ----------------------------------------------------------------------------------------------------


@transaction.atomic
def batch_submit(*, membership: Membership, batch: Batch) -> Batch:
    """In production → CMO QA review: the record is complete. The release model is fixed now, from the agreement
    in force."""
    _require_owner(membership, batch)
    _require(membership, Capability.RECORD_OPERATIONS)
    _require_state(batch, [State.IN_PRODUCTION], "submit it for QA review")
    if not Document.objects.filter(batch=batch, kind=Document.Kind.EXECUTED_BATCH_RECORD, superseded=False).exists():
        raise ValidationError({"state": "Upload the executed batch record before submitting the batch for QA "
                                        "review."})
    batch.state, batch.submitted_at, batch.submitted_by = State.CMO_REVIEW, timezone.now(), membership.user
    batch.release_model, batch.return_reason = effective_terms(batch.partnership_id).release_model, ""
    versioned_save(batch, ["state", "submitted_at", "submitted_by_id", "release_model", "return_reason"], None, False)
    return batch


@transaction.atomic
def batch_return(*, membership: Membership, batch: Batch, reason: str) -> Batch:
    """CMO QA review → in production: the record needs correcting first (the reason is kept)."""
    _require_owner(membership, batch)
    _require(membership, Capability.APPROVE_QUALITY_RECORDS)
    _require_state(batch, [State.CMO_REVIEW], "return it to production")
    batch.state, batch.return_reason = State.IN_PRODUCTION, _text(reason, "reason", "the reason")
    with reason_for_change(f"returned to production: {batch.return_reason}"):
        versioned_save(batch, ["state", "return_reason"], None, False)
    return batch


#: What the person deciding may choose, per party and release model → the step it signs.
CHOICES = ("release", "conditional", "reject")


def next_step(batch: Batch, organization_id: int, choice: str) -> tuple[str, str]:
    """(step, decision) for ``choice`` by ``organization_id`` on ``batch``, or why it is not its turn."""
    if choice not in CHOICES:
        raise ValidationError({"decision": "Choose release, conditional release or reject."})
    if organization_id == batch.organization_id:
        if batch.state != State.CMO_REVIEW:
            raise ValidationError({"state": f"{batch} is {batch.get_state_display().lower()}; the CMO decides "
                                            "while it is in CMO QA review."})
        if choice == "reject":
            return Step.CMO_REJECT, Decision.REJECTED
        if batch.release_model == ReleaseModel.SPONSOR_ONLY:
            if choice == "conditional":
                raise ValidationError({"decision": "Under sponsor-only release the CMO does not release: it sends "
                                                   "the reviewed record to the sponsor, which decides."})
            return Step.CMO_SUBMIT, Decision.SUBMITTED
        return Step.CMO_RELEASE, Decision.CONDITIONAL if choice == "conditional" else Decision.RELEASED
    if organization_id == batch.sponsor_id:
        if batch.state != State.SPONSOR_REVIEW:
            raise ValidationError({"state": f"{batch} is {batch.get_state_display().lower()}; the sponsor decides "
                                            "once the CMO has sent it for the sponsor's disposition."})
        if choice == "reject":
            return Step.SPONSOR_REJECT, Decision.REJECTED
        qp = batch.release_model == ReleaseModel.QP_CERTIFICATION
        if choice == "conditional":
            return (Step.QP_CERTIFY if qp else Step.SPONSOR_RELEASE), Decision.CONDITIONAL
        return (Step.QP_CERTIFY, Decision.CERTIFIED) if qp else (Step.SPONSOR_RELEASE, Decision.RELEASED)
    raise PermissionDenied(PARTNER_READ_ONLY)


def release_blockers(membership: Membership, batch: Batch, decision: str) -> dict[str, str]:
    """Why this release cannot be signed (by field), or {} when it can. Rejection is never blocked."""
    if decision == Decision.REJECTED:
        return {}
    problems: dict[str, str] = {}
    missing = [Document.Kind(k).label.lower() for k in selectors.REQUIRED_DOCUMENTS
               if not Document.objects.filter(batch=batch, kind=k, superseded=False).exists()]
    if missing:
        problems["state"] = f"The {' and the '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing."
    failed = [r.test for r in QcResult.objects.filter(batch=batch, passed=False)]
    if failed:
        problems["decision"] = (f"A batch with a failing result cannot be released ({', '.join(failed)}); reject "
                                "it, or have the CMO correct the record.")
    if decision in (Decision.RELEASED, Decision.CERTIFIED):
        open_numbers = open_deviation_numbers(membership, batch)
        if open_numbers and "decision" not in problems:
            problems["decision"] = (f"Deviation{'s' if len(open_numbers) > 1 else ''} {', '.join(open_numbers)} "
                                    f"{'are' if len(open_numbers) > 1 else 'is'} open on this batch: release it "
                                    "conditionally with a justification, or wait for the closure.")
    if membership.organization_id == batch.sponsor_id:
        open_queries = Query.objects.filter(batch=batch, organization_id=batch.sponsor_id, state=Query.State.OPEN)
        if open_queries.exists():
            problems.setdefault("state", f"Close your open queries first ({open_queries.count()} open): the CMO's "
                                         "answers are part of what you release.")
    return problems


def open_deviation_numbers(membership: Membership, batch: Batch) -> list[str]:
    return [d.number for d in selectors.linked_deviations(membership=membership, batch=batch)
            .exclude(state__in=selectors.CLOSED_DEVIATION).order_by("number")]


def batch_dispose(*, request: Any, membership: Membership, batch: Batch, choice: str, password: str,
                  otp: str | None = None, justification: str = "", reason: str = "") -> Any:
    """The acting party's signed step of the release chain: release, conditional release or rejection.

    Not wrapped in a transaction of its own: a wrong password must stay recorded (lockout counts it) while nothing
    else is written; ``signatures.sign_new`` creates the disposition, its signature and their effects atomically.
    """
    from batches.signing import SIGNABLE
    from part11 import signatures

    if membership.organization_id not in (batch.organization_id, batch.sponsor_id):
        raise PermissionDenied(PARTNER_READ_ONLY)
    step, decision = next_step(batch, membership.organization_id, choice)
    rule = SIGNABLE.rule(step)
    _require(membership, rule.capability)
    if step in (Step.CMO_RELEASE, Step.CMO_SUBMIT, Step.CMO_REJECT) and batch.submitted_by_id == membership.user_id:
        raise ValidationError({"step": rule.not_by_reason})
    justification, reason = (justification or "").strip(), (reason or "").strip()
    if decision == Decision.CONDITIONAL and not justification:
        raise ValidationError({"justification": "A conditional release needs its justification (why the open "
                                                "deviation cannot affect the batch's quality, and what is pending)."})
    if decision == Decision.REJECTED and not reason:
        raise ValidationError({"reason": "Give the reason for rejecting the batch; it is recorded with the "
                                         "signature."})
    problems = release_blockers(membership, batch, decision)
    if problems:
        raise ValidationError(problems)
    open_numbers = open_deviation_numbers(membership, batch)
    counterpart = batch.sponsor_id if membership.organization_id == batch.organization_id else batch.organization_id

    def create() -> Disposition:
        return Disposition.objects.create(
            batch=batch, organization_id=membership.organization_id, cmo_id=batch.organization_id,
            sponsor_id=batch.sponsor_id, partnership_id=batch.partnership_id, counterpart_id=counterpart, step=step,
            decision=decision, justification=justification if decision == Decision.CONDITIONAL else "",
            reason=reason if decision == Decision.REJECTED else "", open_deviations=open_numbers,
            decided_by=membership.user)

    return signatures.sign_new(request=request, membership=membership, create=create, step=step,
                               password=password, otp=otp)


def on_disposition_signed(disposition: Disposition, signature: Any) -> None:
    """The signed step moves the batch (in the signing transaction, as the signer)."""
    batch = Batch.objects.select_related("product", "site", "partnership").get(pk=disposition.batch_id)
    who = signature.printed_name
    if disposition.by_sponsor:
        with connection.cursor() as cursor:
            cursor.execute("SELECT qms_batch_sponsor_disposed(%s)", [disposition.pk])
        verdict = disposition.get_decision_display().lower()
        clocks.notify_partner(
            partnership_id=batch.partnership_id, record=batch,
            subject=f"{batch} {verdict} by {disposition.organization.name}",
            body=f"{who} signed the {disposition.get_step_display().lower()} of {batch}: {verdict}."
                 + _why(disposition))
        return
    now = signature.signed_at
    if disposition.decision == Decision.REJECTED:
        batch.state, batch.disposed_at = State.REJECTED, now
        versioned_save(batch, ["state", "disposed_at"], None, False)
        clocks.notify_partner(partnership_id=batch.partnership_id, record=batch,
                              subject=f"{batch} rejected by {batch.organization.name}",
                              body=f"{who} rejected {batch}." + _why(disposition))
        return
    batch.state, batch.sent_to_sponsor_at = State.SPONSOR_REVIEW, now
    batch.review_deadline = _review_clock(batch, now)
    versioned_save(batch, ["state", "sent_to_sponsor_at", "review_deadline_id"], None, False)
    action = "certification" if batch.release_model == ReleaseModel.QP_CERTIFICATION else "release"
    clocks.notify_partner(
        partnership_id=batch.partnership_id, record=batch,
        subject=f"{batch} awaits your {action} (due {batch.review_deadline.due_at:%d %b %Y})",
        body=f"{who} signed the {disposition.get_step_display().lower()} of {batch} "
             f"({disposition.get_decision_display().lower()}). Review the batch record and decide by "
             f"{batch.review_deadline.due_at:%d %b %Y %H:%M} {batch.review_deadline.time_zone}." + _why(disposition))


def _why(disposition: Disposition) -> str:
    if disposition.justification:
        return f"\n\nConditional: {disposition.justification}"
    if disposition.reason:
        return f"\n\nReason: {disposition.reason}"
    return ""


def review_calendar(site: Site) -> str:
    """The working days of the site's country: UK, EU (Irish holidays for an EU site), else US federal."""
    if site.country == "GB":
        return CalendarCode.UK_ENGLAND_WALES
    if site.country in EU_COUNTRIES:
        return CalendarCode.EU_IRELAND
    return CalendarCode.US_FEDERAL


def _review_clock(batch: Batch, starts_at: dt.datetime) -> Any:
    terms = effective_terms(batch.partnership_id)
    rule = Rule(code="batch_sponsor_review", title="Sponsor disposition of the batch", amount=terms.batch_review_days,
                unit=Unit.BUSINESS_DAYS, calendar=review_calendar(batch.site),
                start_event="batch sent for the sponsor's disposition", stages=reminders(2, 1, escalate=(1, 5)))
    return clocks.deadline_create(organization_id=batch.organization_id, record=batch,
                                  subject_label=f"{batch} → {batch.sponsor.name}", rule=rule, starts_at=starts_at,
                                  audience=[clocks.Audience(batch.sponsor_id)])


# --- Queries -----------------------------------------------------------------------------------------------------


def _post(membership: Membership, query: Query, body: str) -> QueryMessage:
    counterpart = query.cmo_id if membership.organization_id == query.organization_id else query.organization_id
    return QueryMessage.objects.create(query=query, organization_id=membership.organization_id, cmo_id=query.cmo_id,
                                       sponsor_id=query.organization_id, partnership_id=query.partnership_id,
                                       counterpart_id=counterpart, body=body, author=membership.user,
                                       author_name=membership.user.printed_name)


@transaction.atomic
def query_raise(*, membership: Membership, batch: Batch, subject: str, body: str) -> Query:
    """The sponsor asks the CMO about the batch; the CMO's QA is told at once."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if membership.organization_id != batch.sponsor_id:
        raise PermissionDenied("Queries are raised by the batch's sponsor; the CMO answers them.")
    subject = _text(subject, "subject", "a subject")[:200]
    body = _text(body, "body", "the question")
    if batch.is_disposed:
        raise ValidationError({"state": f"{batch} is already {batch.get_state_display().lower()}."})
    query = Query.objects.create(batch=batch, organization_id=membership.organization_id, cmo_id=batch.organization_id,
                                 partnership_id=batch.partnership_id, subject=subject, raised_by=membership.user)
    _post(membership, query, body)
    clocks.notify_partner(partnership_id=batch.partnership_id, record=batch,
                          subject=f"Query on {batch} from {membership.organization.name}: {subject}",
                          body=f"{membership.user.printed_name} asks:\n\n{body}")
    return query


@transaction.atomic
def query_reply(*, membership: Membership, query: Query, body: str) -> QueryMessage:
    """A message in the thread, from either party; the other party is told."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if membership.organization_id not in (query.organization_id, query.cmo_id):
        raise PermissionDenied(PARTNER_READ_ONLY)
    if query.state != Query.State.OPEN:
        raise ValidationError({"state": "This query is closed; raise a new one."})
    body = _text(body, "body", "the message")
    message = _post(membership, query, body)
    verb = "answered" if membership.organization_id == query.cmo_id else "replied to"
    clocks.notify_partner(partnership_id=query.partnership_id, record=query.batch,
                          subject=f"{membership.organization.name} {verb} the query on {query.batch}: "
                                  f"{query.subject}", body=f"{membership.user.printed_name}:\n\n{body}")
    return message


@transaction.atomic
def query_close(*, membership: Membership, query: Query, note: str = "") -> Query:
    """The sponsor is satisfied (or withdraws the query)."""
    _require(membership, Capability.AUTHOR_QUALITY_RECORDS)
    if membership.organization_id != query.organization_id:
        raise PermissionDenied("The sponsor that raised the query closes it.")
    if query.state != Query.State.OPEN:
        raise ValidationError({"state": "This query is already closed."})
    query.state, query.closed_at, query.close_note = Query.State.CLOSED, timezone.now(), (note or "").strip()
    query.save(update_fields=["state", "closed_at", "close_note"])
    clocks.notify_partner(partnership_id=query.partnership_id, record=query.batch,
                          subject=f"{membership.organization.name} closed the query on {query.batch}: "
                                  f"{query.subject}", body=query.close_note or "Closed.")
    return query
