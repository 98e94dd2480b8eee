"""Pages for inspections and 483s. Thin: ``inspections.selectors`` to read, ``inspections.services`` to write (the
API uses the same), ``qms.pages`` for the one-object forms and buttons.

The CMO owns the inspection, its 483 and the response, so its pages are ordinary owner writes. A sponsor writes
only its own rows that point at them (its acknowledgement of a notice; for a pre-approval inspection of its
application, its comments on the draft responses): those pages are partner actions (``writes = False``), and the
service decides who may. What a sponsor reads is what the selectors give it: its own scope lines, notices and
impact rows, the observations that concern it, never the back room and never another sponsor's name.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from django.views.generic.detail import SingleObjectMixin

from agreements.catalogue import NotificationEvent
from clocks.models import STAGE_LABELS
from clocks.selectors import deadline_stages
from clocks.templatetags.clocks import local_due
from inspections import selectors, services
from inspections.forms import (
    AcknowledgeForm,
    AmendForm,
    CapaForm,
    ClosedOnForm,
    CloseOutForm,
    CommentForm,
    CommitmentCloseForm,
    DocumentForm,
    EditForm,
    Form483Form,
    ImpactForm,
    InspectionFilter,
    InspectionForm,
    LogForm,
    NoticeOfInspectionForm,
    NotifyForm,
    ObservationEditForm,
    ObservationForm,
    OutcomeForm,
    RespondedForm,
    ResponseForm,
    ScopeForm,
    SignForm,
    StartForm,
    SubmitForm,
    UpdateForm,
    WarningLetterForm,
    line_key,
    parse_line,
)
from inspections.models import Authority, Form483, Inspection, Notice, Observation, Scope, Visibility
from inspections.services import Affected, ScopeLine
from part11.signatures import signatures_of
from qms.pages import ObjectForm, add_service_errors
from tenants import files
from tenants.models import Membership, Partnership, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin

State = Inspection.State
CMO_ONLY = "Inspections are recorded by the CMO whose site is inspected; a sponsor sees the CMO's record."
OPEN_STATES = (State.ANNOUNCED, State.IN_PROGRESS, State.CLOSED_OUT)


def _back(inspection: Inspection) -> str:
    return reverse("inspection-detail", args=[inspection.pk])


def _back_483(form483: Form483) -> str:
    return reverse("inspection-483", args=[form483.pk])


def _back_observation(observation: Observation) -> str:
    return f"{reverse('inspection-483', args=[observation.form483_id])}#observation-{observation.pk}"


def _own_sites(membership: Membership) -> list[tuple[int, str]]:
    return list(Site.objects.filter(organization_id=membership.organization_id, is_active=True).order_by("name")
                .values_list("pk", "name"))


def _partnership_lines(membership: Membership) -> list[tuple[str, str]]:
    """The CMO's partnerships and their products, as scope choices ("Helix Therapeutics — HLX-101")."""
    lines: list[tuple[str, str]] = []
    for p in (Partnership.objects.filter(cmo_id=membership.organization_id).select_related("sponsor")
              .prefetch_related("products").order_by("sponsor__name", "id")):
        lines.append((line_key(p.pk, None), f"{p.sponsor.name} — every product of the partnership"))
        lines += [(line_key(p.pk, product.pk), f"{p.sponsor.name} — {product.code} {product.name}")
                  for product in sorted(p.products.all(), key=lambda x: x.code)]
    return lines


def _scope_lines(form: Any) -> list[ScopeLine]:
    application = form.cleaned_data.get("application_line") or ""
    reference = (form.cleaned_data.get("application_reference") or "").strip()
    return [ScopeLine(*parse_line(key), application_reference=reference if key == application else "")
            for key in form.cleaned_data.get("scope") or []]


def _affected_lines(membership: Membership, inspection: Inspection) -> list[tuple[str, str]]:
    """What an observation may name as affected: the inspection's scope lines, and each partnership as a whole."""
    lines: list[tuple[str, str]] = []
    seen: set[int] = set()
    for s in selectors.scope_of(membership=membership, inspection=inspection):
        if s.partnership_id not in seen:
            seen.add(s.partnership_id)
            lines.append((line_key(s.partnership_id, None), f"{s.sponsor.name} — the partnership as a whole"))
        if s.product is not None:
            lines.append((line_key(s.partnership_id, s.product_id), f"{s.sponsor.name} — {s.product.code}"))
    return lines


def _require_cmo(membership: Membership) -> None:
    if not membership.organization.is_cmo:
        raise PermissionDenied(CMO_ONLY)


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service's error keys as the form names its fields (``scope.0`` → ``scope``)."""
    found: dict[str, list[str]] = {}
    for key, errors in exc.message_dict.items():
        name = names.get(key.split(".")[0], key.split(".")[0])
        found.setdefault(name, []).extend(errors)
    return ValidationError(found)  # type: ignore[arg-type]  # a dict of message lists is what it takes


# --- List, dashboard, create -----------------------------------------------------------------------------------


class InspectionListView(ScopedPageMixin, ListView):
    """The CMO's inspections at its sites; a sponsor's inspections at its CMOs' sites that concern it."""

    selector = selectors.inspection_list
    filterset_class = InspectionFilter
    template_name = "inspections/inspection_list.html"
    context_object_name = "inspections"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member = self.membership
        is_cmo = member.organization.is_cmo
        visible = selectors.inspection_list(membership=member).order_by()
        context.update(
            filter=self.filterset, is_cmo=is_cmo, now=timezone.now(), stage_labels=STAGE_LABELS,
            sites=list(visible.values_list("site_id", "site__name").distinct().order_by("site__name")),
            cmos=[] if is_cmo else list(visible.values_list("organization_id", "organization__name").distinct()
                                        .order_by("organization__name")),
            can_create=is_cmo and can(member, Capability.AUTHOR_QUALITY_RECORDS),
        )
        return context


class DashboardView(ScopedPageMixin, TemplateView):
    """The sponsor's "Inspections at my CMOs": inspections at its CMOs' sites, its open 483s with both clocks (the
    agency's and its own notification clock), the impact on its products, the status of the commitments. A CMO
    sees the same for its own sites."""

    selector = selectors.inspection_list
    template_name = "inspections/dashboard.html"
    http_method_names = ["get"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        board = selectors.sponsor_dashboard(membership=self.membership)
        today = timezone.localdate()
        commitments = list(board.commitments)
        return {**super().get_context_data(**kwargs), "is_cmo": self.membership.organization.is_cmo,
                "inspections": list(board.inspections[:50]), "open_483s": list(board.open_483s),
                "impacts": list(board.impacts), "commitments": commitments,
                "status": board.commitment_status(today), "today": today, "now": timezone.now(),
                "stage_labels": STAGE_LABELS}


class InspectionCreateView(ScopedPageMixin, FormView):
    selector = selectors.inspection_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = InspectionForm
    template_name = "tenants/form.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": _own_sites(self.membership),
                "lines": _partnership_lines(self.membership)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Record an inspection",
                "cancel_url": reverse("inspections")}

    def form_valid(self, form: InspectionForm) -> HttpResponse:
        data = form.cleaned_data
        site = Site.objects.filter(pk=data["site"], organization_id=self.membership.organization_id).first()
        try:
            if site is None:
                raise ValidationError({"site": "Choose one of your organization's sites."})
            inspection = services.inspection_create(
                membership=self.membership, site=site, authority=data["authority"],
                inspection_type=data["inspection_type"], scope=_scope_lines(form),
                authority_name=data["authority_name"], under_mra=data["under_mra"],
                announced_on=data["announced_on"], started_on=data["started_on"],
                investigators=data["investigators"])
        except ValidationError as exc:
            add_service_errors(form, _renamed(exc, {}))
            return self.form_invalid(form)
        messages.success(self.request, f"{inspection.number} recorded.")
        return redirect(_back(inspection))

    def form_invalid(self, form: InspectionForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- The inspection page ---------------------------------------------------------------------------------------


def _notice_rows(member: Membership, notices: list[Notice]) -> list[tuple[Notice, AcknowledgeForm | None]]:
    """Each notice the member sees, with the acknowledge form when it is the member's to acknowledge now."""
    author = can(member, Capability.AUTHOR_QUALITY_RECORDS)
    return [(n, AcknowledgeForm(auto_id=f"id_ack{n.pk}_%s")
             if author and n.sponsor_id == member.organization_id and n.notified_at is not None
             and getattr(n, "acknowledgement", None) is None else None) for n in notices]


def _pending_events(notices: list[Notice]) -> list[tuple[str, str]]:
    events = {n.event for n in notices if n.notified_at is None}
    return [(value, label) for value, label in NotificationEvent.choices if value in events]


class InspectionDetailView(ScopedPageMixin, DetailView):
    """The inspection as the reader may see it: facts, scope, documents, outcome and Warning Letter with its clock,
    the 483 in short, the sponsors' notices; for the CMO also the back room (the live inspection log)."""

    selector = selectors.inspection_list
    template_name = "inspections/inspection_detail.html"
    context_object_name = "inspection"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        inspection: Inspection = self.object
        member = self.membership
        owner = inspection.organization_id == member.organization_id
        author = owner and can(member, Capability.AUTHOR_QUALITY_RECORDS)
        approver = owner and can(member, Capability.APPROVE_QUALITY_RECORDS)
        form483 = getattr(inspection, "form483", None)
        notices = list(selectors.notices_of(membership=member, inspection=inspection))
        fda = inspection.authority == Authority.FDA
        state = inspection.state
        return {
            **super().get_context_data(**kwargs), "owner": owner, "form483": form483,
            "scope": list(selectors.scope_of(membership=member, inspection=inspection)),
            "documents": list(selectors.documents_of(membership=member, inspection=inspection)),
            # The back room: only ever the CMO's own (the selector returns nothing else; the page does not ask).
            "log": list(selectors.log_of(membership=member, inspection=inspection)) if owner else [],
            "log_form": LogForm(auto_id="id_log_%s") if owner and state in OPEN_STATES
            and can(member, Capability.RECORD_OPERATIONS) else None,
            "notices": _notice_rows(member, notices),
            "notify_events": _pending_events(notices) if author else [],
            "now": timezone.now(), "stage_labels": STAGE_LABELS,
            "can_edit": author and state in OPEN_STATES,
            "can_notice": author and inspection.notice_received_at is None
            and state in (State.ANNOUNCED, State.IN_PROGRESS),
            "can_start": author and state == State.ANNOUNCED,
            "can_close_out": author and state == State.IN_PROGRESS,
            "can_outcome": approver and state == State.CLOSED_OUT,
            "can_record_483": author and fda and form483 is None and state in (State.IN_PROGRESS, State.CLOSED_OUT),
            "can_warning_letter": author and fda and inspection.warning_letter_issued_on is None
            and state in (State.CLOSED_OUT, State.CLOSED),
            "can_wl_respond": approver and inspection.warning_letter_deadline_id is not None
            and inspection.warning_letter_responded_at is None,
            "can_wl_close": approver and inspection.warning_letter_responded_at is not None
            and inspection.warning_letter_closed_on is None,
            "can_upload": author,
        }


class InspectionEditView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = EditForm
    title = "Edit"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        i = self.target()
        return {"authority": i.authority, "authority_name": i.authority_name, "under_mra": i.under_mra,
                "inspection_type": i.inspection_type, "announced_on": i.announced_on,
                "investigators": "\n".join(i.investigators), "version": i.version}

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        data = dict(data)
        version = data.pop("version")
        services.inspection_update(membership=self.membership, inspection=inspection, expected_version=version,
                                   **data)
        return "Saved."


class ScopeView(ObjectForm):
    """Replace the partnerships and products in scope: sponsors added get the clocks of events already recorded."""

    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ScopeForm
    title = "Scope"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "lines": _partnership_lines(self.membership)}

    def get_initial(self) -> dict[str, Any]:
        inspection = self.target()
        scope = list(selectors.scope_of(membership=self.membership, inspection=inspection))
        application = next((s for s in scope if s.application_reference), None)
        return {"scope": [line_key(s.partnership_id, s.product_id) for s in scope], "version": inspection.version,
                "application_line": line_key(application.partnership_id, application.product_id)
                if application else "",
                "application_reference": application.application_reference if application else ""}

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        lines = [ScopeLine(*parse_line(key), application_reference=(data["application_reference"] or "").strip()
                           if key == data["application_line"] else "") for key in data["scope"]]
        try:
            services.scope_set(membership=self.membership, inspection=inspection, scope=lines,
                               expected_version=data["version"])
        except ValidationError as exc:
            raise _renamed(exc, {}) from None
        return "Scope saved."


class NoticeOfInspectionView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = NoticeOfInspectionForm
    title = "Record the notice of inspection"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.notice_of_inspection_record(membership=self.membership, inspection=inspection,
                                             received_at=data["received_at"])
        return "Notice of inspection recorded: each sponsor's notification clock is running."


class StartView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = StartForm
    title = "Record the start"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        return {"started_on": timezone.localdate()}

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.inspection_start(membership=self.membership, inspection=inspection,
                                  started_on=data["started_on"])
        return f"{inspection.number} is in progress."


class CloseOutView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CloseOutForm
    title = "Record the close-out meeting"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        return {"closed_out_on": timezone.localdate()}

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.inspection_close_out(membership=self.membership, inspection=inspection,
                                      closed_out_on=data["closed_out_on"])
        return f"{inspection.number} closed out."


class OutcomeView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = OutcomeForm
    title = "Record the outcome"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.outcome_record(membership=self.membership, inspection=inspection, outcome=data["outcome"],
                                outcome_on=data["outcome_on"], note=data["note"])
        return f"Outcome recorded: {inspection.get_outcome_display()}."


class LogView(ObjectForm):
    """A line of the back room's live log (the CMO's production or QA; never shown to a sponsor)."""

    selector = selectors.inspection_list
    write_capability = Capability.RECORD_OPERATIONS
    form_class = LogForm
    title = "Add to the inspection log"

    def back(self, inspection: Inspection) -> str:
        return _back(inspection) + "#back-room"

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.log_add(membership=self.membership, inspection=inspection, kind=data["kind"], text=data["text"],
                         who=data["who"])
        return "Added to the back-room log."


class DocumentUploadView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = DocumentForm
    title = "Attach a document"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        document = services.document_attach(membership=self.membership, inspection=inspection,
                                            upload=data["file"], kind=data["kind"], title=data["title"],
                                            shared=data["shared"])
        assert document.file is not None  # stored with the document
        return f"Attached {document.file.original_name} (SHA-256 {document.file.sha256})."


class DocumentView(ScopedPageMixin, SingleObjectMixin, View):
    """A document of the inspection, as an attachment; found through the inspection (404 for anyone who cannot see
    it) and then its documents as the reader may see them (a sponsor: the shared ones)."""

    selector = selectors.inspection_list
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        document = get_object_or_404(selectors.documents_of(membership=self.membership, inspection=self.get_object())
                                     .exclude(file=None), pk=kwargs["document"])
        assert document.file is not None  # excluded above
        response = files.file_response(document.file)
        response["Cache-Control"] = "private, no-store"
        return response


class NotifyView(ObjectForm):
    """Tell the sponsors not yet told of an event, through the app (in-app and e-mail): meets each clock."""

    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = NotifyForm
    title = "Notify the sponsors in scope"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        inspection = self.target()
        notices = list(selectors.notices_of(membership=self.membership, inspection=inspection))
        return {**super().get_form_kwargs(), "events": _pending_events(notices) or NotificationEvent.choices}

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        notices = services.inspection_notify(membership=self.membership, inspection=inspection,
                                             event=data["event"], message=data["message"])
        return f"Notified {len(notices)} sponsor{'s' if len(notices) != 1 else ''} (in-app and e-mail)."


class AcknowledgeView(ObjectForm):
    """The sponsor acknowledges the CMO's notice: its own row, so the notice (the CMO's) is not written."""

    selector = selectors.notice_list
    writes = False
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = AcknowledgeForm
    title = "Acknowledge"

    def back(self, notice: Notice) -> str:
        return _back(notice.inspection)

    def act(self, notice: Notice, data: dict[str, Any]) -> str:
        services.notice_acknowledge(membership=self.membership, notice=notice, note=data["note"])
        return "Acknowledged; the CMO is told."


class WarningLetterView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = WarningLetterForm
    title = "Record a Warning Letter"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.warning_letter_record(membership=self.membership, inspection=inspection,
                                       issued_on=data["issued_on"])
        return "Warning Letter recorded: the reply clock and each sponsor's notice clock are running."


class WarningLetterRespondView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = RespondedForm
    title = "Record the reply to the Warning Letter"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.warning_letter_respond(membership=self.membership, inspection=inspection,
                                        responded_at=data["responded_at"])
        return "Reply to the Warning Letter recorded."


class WarningLetterCloseView(ObjectForm):
    selector = selectors.inspection_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ClosedOnForm
    title = "Record FDA's close-out letter"
    back = staticmethod(_back)

    def act(self, inspection: Inspection, data: dict[str, Any]) -> str:
        services.warning_letter_close(membership=self.membership, inspection=inspection,
                                      closed_on=data["closed_on"])
        return "Warning Letter closed out."


class Form483CreateView(ObjectForm):
    """Record the 483 handed over at close-out: the agency response clock and each sponsor's clock start."""

    selector = selectors.inspection_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = Form483Form
    title = "Record the Form 483"
    back = staticmethod(_back)

    def form_valid(self, form: Form483Form) -> HttpResponse:
        inspection = self.target()
        try:
            form483 = services.form483_record(membership=self.membership, inspection=inspection,
                                              issued_on=form.cleaned_data["issued_on"],
                                              update_interval_days=form.cleaned_data["update_interval_days"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        assert form483.response_deadline is not None  # created with the 483
        messages.success(self.request, f"483 recorded: the response to FDA is due "
                                       f"{local_due(form483.response_deadline)}.")
        return redirect(_back_483(form483))


# --- The 483 page -----------------------------------------------------------------------------------------------


def _participants(member: Membership, inspection: Inspection) -> list[tuple[int, str]]:
    """The sponsors whose application this PAI/PLI reviews (the threads the CMO answers in)."""
    if inspection.inspection_type not in services.APPLICATION_TYPES:
        return []
    seen: dict[int, str] = {}
    for s in selectors.scope_of(membership=member, inspection=inspection):
        if s.application_reference:
            seen.setdefault(s.sponsor_id, s.sponsor.name)
    return sorted(seen.items())


class Form483DetailView(ScopedPageMixin, DetailView):
    """Track 1 and Track 2 of one 483, as the reader may see them: the observations (a sponsor: those that concern
    it), the response drafted per observation, signatures, submission, commitments and periodic updates; the
    response clock with its reminders; each sponsor's notices and its impact rows."""

    selector = selectors.form483_list
    template_name = "inspections/form483_detail.html"
    context_object_name = "form483"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form483: Form483 = self.object
        inspection = form483.inspection
        member = self.membership
        org = member.organization_id
        owner = form483.organization_id == org
        author = owner and can(member, Capability.AUTHOR_QUALITY_RECORDS)
        approver = owner and can(member, Capability.APPROVE_QUALITY_RECORDS)
        drafting = form483.state == Form483.State.DRAFTING
        participants = _participants(member, inspection)
        comments_open = drafting and can(member, Capability.AUTHOR_QUALITY_RECORDS) and (
            (owner and bool(participants)) or (not owner and any(pk == org for pk, _ in participants)))
        observations = [
            (o, CommentForm(auto_id=f"id_comment{o.pk}_%s", sponsors=participants if owner else None)
             if comments_open else None)
            for o in selectors.observations_of(membership=member, form483=form483)]
        notices = list(selectors.notices_of(membership=member, inspection=inspection))
        deadline = form483.response_deadline
        signatures = list(signatures_of(form483))
        live = [s for s in signatures if not s.is_void]
        return {
            **super().get_context_data(**kwargs), "inspection": inspection, "owner": owner,
            "observations": observations, "signatures": signatures,
            "stages": list(deadline_stages(deadline=deadline)) if deadline else [],
            "updates": list(selectors.updates_of(membership=member, form483=form483)),
            "notices": _notice_rows(member, notices),
            "notify_events": _pending_events(notices) if author else [],
            "participants": participants, "now": timezone.now(), "stage_labels": STAGE_LABELS,
            "can_draft": author and drafting, "can_close_commitment": approver
            and form483.state == Form483.State.SUBMITTED,
            "can_review": owner and drafting and can(member, Capability.REVIEW_QUALITY_RECORDS),
            "can_approve": approver and drafting and any(s.meaning == "reviewed" for s in live),
            "can_submit": author and drafting and any(s.meaning == "approved" for s in live),
            "can_update": author and form483.state == Form483.State.SUBMITTED
            and any(u.is_open for u in selectors.updates_of(membership=member, form483=form483)),
            "can_pdf": can(member, Capability.EXPORT),
        }


class AmendView(ObjectForm):
    selector = selectors.form483_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = AmendForm
    title = "Record the amended 483"
    back = staticmethod(_back_483)

    def get_initial(self) -> dict[str, Any]:
        return {"issued_on": timezone.localdate(), "version": self.target().version}

    def act(self, form483: Form483, data: dict[str, Any]) -> str:
        services.form483_amend(membership=self.membership, form483=form483, issued_on=data["issued_on"],
                               reason=data["reason"], expected_version=data["version"])
        assert form483.response_deadline is not None  # created with the 483
        form483.response_deadline.refresh_from_db()
        return f"Amended 483 recorded: the response is now due {local_due(form483.response_deadline)}."


def _observation_args(data: dict[str, Any]) -> dict[str, Any]:
    return {"text": data["text"], "cited_regulation": data["cited_regulation"],
            "subpart": data["subpart"] or None, "system": data["system"] or None,
            "accountability": data["accountability"], "accountability_rationale": data["accountability_rationale"],
            "visibility": data["visibility"]}


def _affected(data: dict[str, Any]) -> list[Affected]:
    return [Affected(*parse_line(key)) for key in data["affected"]]


class ObservationCreateView(ObjectForm):
    selector = selectors.form483_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ObservationForm
    title = "Add an observation"
    back = staticmethod(_back_483)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(),
                "lines": _affected_lines(self.membership, self.target().inspection)}

    def act(self, form483: Form483, data: dict[str, Any]) -> str:
        try:
            observation = services.observation_add(membership=self.membership, form483=form483,
                                                   number=data["number"], affected=_affected(data),
                                                   **_observation_args(data))
        except ValidationError as exc:
            raise _renamed(exc, {}) from None
        suggested = observation.get_suggested_subpart_display() or "no suggestion"
        return f"Observation {observation.number} added (suggested: {suggested})."


class ObservationEditView(ObjectForm):
    """Edit an observation while drafting; the version is the 483's (its observations are its content)."""

    selector = selectors.observation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ObservationEditForm
    title = "Edit"
    back = staticmethod(_back_observation)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(),
                "lines": _affected_lines(self.membership, self.target().inspection)}

    def get_initial(self) -> dict[str, Any]:
        o = self.target()
        return {"number": o.number, "text": o.text, "cited_regulation": o.cited_regulation, "subpart": o.subpart,
                "system": o.system, "accountability": o.accountability,
                "accountability_rationale": o.accountability_rationale, "visibility": o.visibility,
                "affected": [line_key(a.partnership_id, a.product_id) for a in o.visible_affected],
                "version": o.form483.version}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        changes = _observation_args(data)
        if data["number"]:
            changes["number"] = data["number"]
        try:
            services.observation_update(membership=self.membership, observation=observation,
                                        affected=_affected(data), expected_version=data["version"], **changes)
        except ValidationError as exc:
            raise _renamed(exc, {}) from None
        return f"Observation {observation.number} saved."


class ResponseView(ObjectForm):
    selector = selectors.observation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ResponseForm
    title = "Draft the response"
    back = staticmethod(_back_observation)

    def get_initial(self) -> dict[str, Any]:
        o = self.target()
        return {"commitment": o.response_commitment, "actions": o.response_actions,
                "target_on": o.response_target_on, "evidence": o.response_evidence, "version": o.form483.version}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        services.response_draft(membership=self.membership, observation=observation,
                                commitment=data["commitment"], actions=data["actions"], target_on=data["target_on"],
                                evidence=data["evidence"], expected_version=data["version"])
        return f"Response to observation {observation.number} saved."


def _observers(observation: Observation) -> list[tuple[int, str]]:
    """The sponsors (by partnership) that see ``observation``: every one in scope when it is site-wide, else those
    of its affected lines. Read by the CMO, which owns every row."""
    if observation.visibility == Visibility.SITE_WIDE:
        pairs = set(Scope.objects.filter(inspection_id=observation.inspection_id)
                    .values_list("partnership_id", "sponsor__name"))
    else:
        pairs = set(observation.affected.values_list("partnership_id", "sponsor__name"))
    return sorted(pairs, key=lambda pair: pair[1])


class ImpactView(ObjectForm):
    """The CMO's program impact of one observation on one sponsor that sees it."""

    selector = selectors.observation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ImpactForm
    title = "Assess the program impact"
    back = staticmethod(_back_observation)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sponsors": _observers(self.target())}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        row = services.impact_assess(membership=self.membership, observation=observation,
                                     partnership_id=data["partnership"], impact=data["impact"],
                                     rationale=data["rationale"])
        return f"Impact recorded: {row.get_impact_display().lower()}."


class CapaCreateView(ObjectForm):
    selector = selectors.observation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CapaForm
    title = "Create a CAPA"
    back = staticmethod(_back_observation)

    def get_initial(self) -> dict[str, Any]:
        o = self.target()
        return {"title": f"483 observation {o.number}: {o.text[:150]}", "description": o.text}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        link = services.capa_create_for(membership=self.membership, observation=observation, title=data["title"],
                                        description=data["description"])
        return f"{link.capa_number} created and linked to observation {observation.number}."


class CommentView(ObjectForm):
    """A comment on the draft response: the PAI sponsor's own row, or the CMO's answer in that sponsor's thread
    (a partner action; the service refuses everyone else with the reason)."""

    selector = selectors.observation_list
    writes = False
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CommentForm
    title = "Comment on the response"
    back = staticmethod(_back_observation)

    def get_form_kwargs(self) -> dict[str, Any]:
        observation = self.target()
        owner = observation.organization_id == self.membership.organization_id
        return {**super().get_form_kwargs(),
                "sponsors": _participants(self.membership, observation.inspection) if owner else None}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        services.comment_add(membership=self.membership, observation=observation, body=data["body"],
                             sponsor_id=data.get("sponsor"))
        return "Comment posted."


class CommitmentCloseView(ObjectForm):
    selector = selectors.observation_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = CommitmentCloseForm
    title = "Close the commitment"
    back = staticmethod(_back_observation)

    def get_initial(self) -> dict[str, Any]:
        return {"closed_on": timezone.localdate()}

    def act(self, observation: Observation, data: dict[str, Any]) -> str:
        services.commitment_close(membership=self.membership, observation=observation,
                                  closed_on=data["closed_on"], evidence=data["evidence"])
        return f"Commitment of observation {observation.number} closed."


class _SignView(ObjectForm):
    """A signature of the whole response. A refused signature answers 400 from ``act``'s ValidationError without
    raising out of the view, so the request commits and the failed attempt stays recorded (lockout counts it)."""

    selector = selectors.form483_list
    form_class = SignForm
    template_name = "inspections/sign.html"
    back = staticmethod(_back_483)
    step = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from inspections.signing import _signable

        form483 = self.target()
        return {**super().get_context_data(**kwargs), "form483": form483, "step": self.step,
                "refusal": _signable(form483)}

    def act(self, form483: Form483, data: dict[str, Any]) -> str:
        signature = services.form483_sign(request=self.request, membership=self.membership, form483=form483,
                                          step=self.step, password=data["password"], otp=data.get("otp"))
        return f"Signed by {signature.printed_name} — {signature.get_meaning_display()}."


class ReviewSignView(_SignView):
    write_capability = Capability.REVIEW_QUALITY_RECORDS
    title = "Review the response"
    step = "review"


class ApproveSignView(_SignView):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    title = "Approve the response"
    step = "approve"


class SubmitView(ObjectForm):
    selector = selectors.form483_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = SubmitForm
    title = "Record the submission to FDA"
    back = staticmethod(_back_483)

    def act(self, form483: Form483, data: dict[str, Any]) -> str:
        services.form483_submit(membership=self.membership, form483=form483, submitted_at=data["submitted_at"])
        return "Response submitted" + (" — late: after the 15-business-day window." if form483.submitted_late
                                       else " within the window.")


class UpdateView(ObjectForm):
    selector = selectors.form483_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = UpdateForm
    title = "Record the periodic update"
    back = staticmethod(_back_483)

    def act(self, form483: Form483, data: dict[str, Any]) -> str:
        update = services.update_record(membership=self.membership, form483=form483, summary=data["summary"],
                                        submitted_at=data["submitted_at"])
        return f"Update {update.sequence} recorded" + (" (late)." if update.submitted_late else ".")


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    """The 483 response dossier PDF, as the reader may see the 483."""

    selector = selectors.form483_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from inspections.pdf import render_dossier

        form483 = self.get_object()
        response = HttpResponse(render_dossier(membership=self.membership, form483=form483),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{form483.inspection.number}-483.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
