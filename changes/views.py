"""Pages for change control. Thin: ``changes.selectors`` to read, ``changes.services`` to write (the API uses the
same), ``qms.pages`` for the one-object forms and buttons.

The owner of a change (the CMO, or a sponsor for its own products) writes it through ordinary owner pages. A sponsor
affected by a CMO's change writes only its own rows that point at it: its filing decisions, the agency's approval
of a prior-approval filing, its signed approval or rejection. Those pages are partner actions (``writes = False``,
the capability checked first, then a check that the member's organization is the one the row belongs to), like
the sponsor's disposition of a batch. Every read goes through the selectors, which show a sponsor only its own
product lines, routes, filing assessments and approvals.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from django.views.generic.detail import SingleObjectMixin

from agreements.catalogue import ChangeClass
from changes import questionnaire, selectors, services
from changes.forms import (
    AgencyApprovalForm,
    ChangeFilter,
    DocumentForm,
    EditForm,
    EffectivenessForm,
    FilingDecisionForm,
    HeaderForm,
    ImpactForm,
    NotifyForm,
    SponsorDecisionForm,
    WithdrawForm,
    answers_from,
)
from changes.models import Approval, ChangeDocument, ChangeRequest, FilingAssessment, FilingDecision, SponsorRoute
from clocks.models import STAGE_LABELS
from part11.models import Signature
from part11.signatures import signatures_of
from qms.forms import PasswordForm, ReasonPasswordForm
from qms.pages import ObjectButton, ObjectForm, add_service_errors
from tenants import files
from tenants.models import Membership, Product, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin
from tenants.selectors import partnership_list, product_list, site_list

State = ChangeRequest.State
Requirement = SponsorRoute.Requirement
CANCELLABLE = (State.DRAFT, State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED)
IMPLEMENTABLE = (State.PENDING_APPROVAL, State.APPROVED)


def _back(change: ChangeRequest) -> str:
    return reverse("change-detail", args=[change.pk])


def _renamed(exc: ValidationError) -> ValidationError:
    """A service's errors named as the page's fields: ``answers.<key>`` is the question's field, ``lines`` and
    ``lines.<n>`` the products field."""
    out: dict[str, list[str]] = {}
    for key, errors in exc.message_dict.items():
        name = key.split(".", 1)[1] if key.startswith("answers.") else "products" if key.startswith("lines") else key
        out.setdefault(name, []).extend(errors)
    return ValidationError(out)


def _own_sites(membership: Membership) -> list[tuple[int, str]]:
    return list(Site.objects.filter(organization_id=membership.organization_id, is_active=True).order_by("name")
                .values_list("pk", "name"))


def _products(membership: Membership) -> list[tuple[int, str]]:
    """What a change of the member's organization may affect: a CMO's, the products its partnerships name (each
    with its sponsor); a sponsor's, its own products that a partner makes."""
    org = membership.organization_id
    if membership.organization.is_cmo:
        products = Product.objects.filter(partnerships__cmo_id=org)
    else:
        products = Product.objects.filter(organization_id=org, partnerships__sponsor_id=org)
    return [(p.pk, f"{p.code} {p.name} ({p.organization.name})")
            for p in products.select_related("organization").distinct().order_by("code")]


def _header(membership: Membership, data: dict[str, Any]) -> dict[str, Any]:
    """The form's header fields as the services take them (the site as the member's own site, or None)."""
    data = dict(data)
    site_id = data.pop("site", None)
    data["site"] = (Site.objects.filter(pk=site_id, organization_id=membership.organization_id).first()
                    if site_id is not None else None)
    if site_id is not None and data["site"] is None:
        raise ValidationError({"site": "Choose one of your organization's sites."})
    return data


# --- Lists -------------------------------------------------------------------------------------------------------


class ChangeListView(ScopedPageMixin, ListView):
    """The owner's changes, and the changes of others that affect the member's products (only its own lines)."""

    selector = selectors.change_list
    filterset_class = ChangeFilter
    template_name = "changes/change_list.html"
    context_object_name = "changes"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member = self.membership
        counts = dict(selectors.change_list(membership=member).order_by().values_list("state")
                      .annotate(n=Count("pk")).values_list("state", "n"))
        partnerships = partnership_list(membership=member).select_related("sponsor", "cmo").order_by("id")
        context.update(
            filter=self.filterset, query=self.request.GET.urlencode(), is_cmo=member.organization.is_cmo,
            status_counts=[(value, label, counts.get(value, 0)) for value, label in State.choices],
            types=ChangeClass.choices, states=State.choices,
            products=list(product_list(membership=member).order_by("code").values_list("pk", "code")),
            sites=list(site_list(membership=member).order_by("name").values_list("pk", "name")),
            partnerships=[(p.pk, f"{p.sponsor.name} ↔ {p.cmo.name}") for p in partnerships],
            can_raise=can(member, Capability.AUTHOR_QUALITY_RECORDS),
            awaiting=not member.organization.is_cmo,
        )
        return context


class AwaitingView(ScopedPageMixin, TemplateView):
    """A sponsor's "changes awaiting my decision": approvals to sign, filing categories to confirm, agency approvals
    of prior-approval filings to record. A CMO decides nothing here (its QA approvals are on its own list)."""

    selector = selectors.change_list
    template_name = "changes/awaiting.html"
    http_method_names = ["get"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        awaiting = selectors.awaiting_decision(self.membership)
        return {**super().get_context_data(**kwargs), "approvals": list(awaiting.approvals),
                "filings": list(awaiting.filings), "agency": list(awaiting.agency),
                "can_decide": can(self.membership, Capability.APPROVE_QUALITY_RECORDS),
                "is_cmo": self.membership.organization.is_cmo}


# --- Create and edit ---------------------------------------------------------------------------------------------


class ChangeCreateView(ScopedPageMixin, FormView):
    selector = selectors.change_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = HeaderForm
    template_name = "tenants/form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "products": _products(self.membership),
                "sites": _own_sites(self.membership)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Raise a change", "cancel_url": reverse("changes")}

    def form_valid(self, form: HeaderForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        products = data.pop("products")
        try:
            change = services.change_create(membership=self.membership, product_ids=products,
                                            **_header(self.membership, data))
        except ValidationError as exc:
            add_service_errors(form, _renamed(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"{change.number} raised as a draft: assess its impact next.")
        return redirect(_back(change))

    def form_invalid(self, form: HeaderForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ChangeEditView(ObjectForm):
    """The header and the affected products, while the change is a draft or assessed (not yet for approval)."""

    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = EditForm
    title = "Edit"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "products": _products(self.membership),
                "sites": _own_sites(self.membership)}

    def product_ids(self, change: ChangeRequest) -> list[int]:
        return list(selectors.lines_of(membership=self.membership, change=change).values_list("product_id", flat=True))

    def get_initial(self) -> dict[str, Any]:
        c = self.target()
        return {"title": c.title, "change_type": c.change_type, "description": c.description, "reason": c.reason,
                "products": self.product_ids(c), "site": c.site_id,
                "proposed_implementation_date": c.proposed_implementation_date,
                "permanent": "permanent" if c.permanent else "temporary", "temporary_until": c.temporary_until,
                "version": c.version}

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        data = dict(data)
        version, products = data.pop("version"), data.pop("products")
        try:
            services.change_update(membership=self.membership, change=change, expected_version=version,
                                   **_header(self.membership, data))
            if set(products) != set(self.product_ids(change)):
                services.lines_set(membership=self.membership, change=change, product_ids=products,
                                   expected_version=change.version)
        except ValidationError as exc:
            raise _renamed(exc) from exc
        return "Saved."


class AssessView(ObjectForm):
    """The impact questionnaire of the change's type, with the risk: computes the filing suggestions."""

    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ImpactForm
    title = "Impact assessment"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "change_type": self.target().change_type}

    def get_initial(self) -> dict[str, Any]:
        return ImpactForm.initial_for(self.target())

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        try:
            services.impact_assess(membership=self.membership, change=change,
                                   answers=answers_from(change.change_type, data),
                                   risk_rating=data["risk_rating"], risk_rationale=data["risk_rationale"],
                                   expected_version=data["version"])
        except ValidationError as exc:
            raise _renamed(exc) from exc
        return f"Impact assessed; {change.number}'s filing suggestions are computed."


class SubmitView(ObjectButton):
    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    back = staticmethod(_back)

    def act(self, change: ChangeRequest) -> str:
        services.change_submit(membership=self.membership, change=change)
        return f"{change.number} submitted for approval; its sponsors' routes are fixed from their agreements."


class NotifyView(ObjectForm):
    """Tell the notification-only sponsors now; their notice clocks are met."""

    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = NotifyForm
    title = "Notify the sponsors"
    back = staticmethod(_back)

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        routes = services.change_notify(membership=self.membership, change=change, message=data["message"])
        return f"{len(routes)} sponsor{'s' if len(routes) != 1 else ''} notified."


class WithdrawView(ObjectForm):
    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = WithdrawForm
    title = "Withdraw for revision"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        return {"version": self.target().version}

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        services.change_withdraw(membership=self.membership, change=change, reason=data["reason"],
                                 expected_version=data["version"])
        return f"{change.number} withdrawn for revision; submit it again when it is revised."


class ImplementView(ObjectButton):
    """Refused until nothing is missing; the refusal names every missing item."""

    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    back = staticmethod(_back)

    def act(self, change: ChangeRequest) -> str:
        services.change_implement(membership=self.membership, change=change)
        return f"{change.number} implemented; the effectiveness review is due in " \
               f"{services.EFFECTIVENESS_REVIEW_DAYS} days."


class EffectivenessView(ObjectForm):
    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = EffectivenessForm
    title = "Effectiveness review"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        return {"version": self.target().version}

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        services.effectiveness_record(membership=self.membership, change=change, summary=data["summary"],
                                      effective=data["effective"], expected_version=data["version"])
        return "Effectiveness review recorded; a QA approver closes the change by signing it."


class DocumentUploadView(ObjectForm):
    """Link a document to an approved or implemented change; its SHA-256 is shown to every party."""

    selector = selectors.change_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = DocumentForm
    title = "Upload a document"
    back = staticmethod(_back)

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        document = services.document_attach(membership=self.membership, change=change, upload=data["file"],
                                            kind=data["kind"], title=data["title"])
        return f"Uploaded {document.stored.original_name} (SHA-256 {document.stored.sha256})."


# --- Signatures ----------------------------------------------------------------------------------------------------


class _SignView(ObjectForm):
    """A signed step on the change. A refused signature answers 400 from ``act``'s ValidationError without raising
    out of the view, so the request commits and the failed attempt stays recorded (it counts toward lockout)."""

    selector = selectors.change_list
    template_name = "changes/sign.html"
    form_class = PasswordForm
    back = staticmethod(_back)
    meaning = ""

    def notes(self, change: ChangeRequest) -> list[str]:
        """What stands in the way of this signature now, shown above the form."""
        return []

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        change = self.target()
        return {**super().get_context_data(**kwargs), "change": change, "meaning": self.meaning,
                "notes": self.notes(change)}


class ApproveView(_SignView):
    """The owner's QA approval, after every sponsor approval its routes require; not by the change's author."""

    write_capability = Capability.APPROVE_QUALITY_RECORDS
    title = "Approve the change (QA)"
    meaning = "approved"

    def notes(self, change: ChangeRequest) -> list[str]:
        found = [f"Missing: {item}." for item in services.missing_sponsor_approvals(change)]
        if change.created_by_id == self.membership.user_id:
            found.insert(0, "You raised this change: another QA approver approves it (author ≠ approver).")
        return found

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        signature = services.change_sign_approve(request=self.request, membership=self.membership, change=change,
                                                 password=data["password"], otp=data.get("otp"))
        return f"Signed by {signature.printed_name} — {signature.get_meaning_display()}. {change.number} is approved."


class CloseView(_SignView):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    title = "Close the change"
    meaning = "closed"

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        signature = services.change_sign_close(request=self.request, membership=self.membership, change=change,
                                               password=data["password"], otp=data.get("otp"))
        return f"Signed by {signature.printed_name} — {signature.get_meaning_display()}. {change.number} is closed."


class CancelView(_SignView):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonPasswordForm
    title = "Cancel the change"
    meaning = "approved (the cancellation)"

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        services.change_cancel(request=self.request, membership=self.membership, change=change,
                               reason=data["reason"], password=data["password"], otp=data.get("otp"))
        return f"{change.number} cancelled."


class SponsorDecisionView(_SignView):
    """The sponsor's signed approval or rejection: its own row pointing at the owner's change (a partner action),
    open only to a sponsor whose current route requires its approval."""

    writes = False
    read_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = SponsorDecisionForm
    title = "Your decision"
    meaning = "approved, or rejected with the reason"

    def target(self) -> Any:
        change = super().target()
        if not selectors.routes_of(membership=self.membership, change=change).filter(
                sponsor_id=self.membership.organization_id, requirement=Requirement.APPROVAL).exists():
            raise PermissionDenied("Your organization's approval is not required for this change.")
        return change

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        approve = data["decision"] == "approve"
        signature = services.approval_sign(request=self.request, membership=self.membership, change=change,
                                           approve=approve, comment=data["comment"], password=data["password"],
                                           otp=data.get("otp"))
        return f"Signed by {signature.printed_name} — {signature.get_meaning_display()}: {change.number} " \
               f"{'approved' if approve else 'rejected'} for {self.membership.organization.name}."


# --- The sponsor's filing decisions --------------------------------------------------------------------------------


class FilingDecideView(ObjectForm):
    """The product owner confirms the suggested category or overrides it with a reason; never the CMO."""

    selector = selectors.change_list
    writes = False
    read_capability = Capability.APPROVE_QUALITY_RECORDS
    template_name = "changes/form.html"
    form_class = FilingDecisionForm
    title = "Filing category"
    back = staticmethod(_back)

    def assessment(self) -> FilingAssessment:
        if not hasattr(self, "_assessment"):
            found = get_object_or_404(selectors.assessments_of(membership=self.membership, change=self.target()),
                                      pk=self.kwargs["assessment"])
            if found.sponsor_id != self.membership.organization_id:
                raise PermissionDenied("Only the product's owner (the sponsor that holds the marketing "
                                       "authorization) confirms its filing category.")
            self._assessment = found
        return self._assessment

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "assessment": self.assessment()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        a = self.assessment()
        return {**super().get_context_data(**kwargs),
                "title": f"Filing category for {a.product.code} ({a.market}): {a.change.number}",
                "intro": f"Suggested: {a.get_suggested_category_display()}. Rule {a.rule_id or '—'} "
                         f"(rules {a.rules_version}): {a.rule_text}"}

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        a = self.assessment()
        decision = services.filing_decide(membership=self.membership, assessment=a, category=data["category"],
                                          override_reason=data["override_reason"])
        verb = "overridden" if decision.overridden else "confirmed"
        return f"{a.product.code} ({a.market}): {decision.get_confirmed_category_display()} {verb}."


class AgencyApprovalView(ObjectForm):
    """The product owner records the agency's approval of its prior-approval supplement or Type II variation."""

    selector = selectors.change_list
    writes = False
    read_capability = Capability.APPROVE_QUALITY_RECORDS
    template_name = "changes/form.html"
    form_class = AgencyApprovalForm
    title = "Agency approval"
    back = staticmethod(_back)

    def decision(self) -> FilingDecision:
        if not hasattr(self, "_decision"):
            found = get_object_or_404(selectors.decisions_of(membership=self.membership, change=self.target()),
                                      pk=self.kwargs["decision"])
            if found.organization_id != self.membership.organization_id:
                raise PermissionDenied("Only the product's owner records the agency's approval of its filing.")
            self._decision = found
        return self._decision

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        d = self.decision()
        return {**super().get_context_data(**kwargs),
                "title": f"Agency approval of the {d.get_confirmed_category_display()} for "
                         f"{d.assessment.product.code}: {d.change.number}"}

    def get_initial(self) -> dict[str, Any]:
        return {"approved_on": timezone.localdate()}

    def act(self, change: ChangeRequest, data: dict[str, Any]) -> str:
        d = services.filing_approval_record(membership=self.membership, decision=self.decision(),
                                            approved_on=data["approved_on"], reference=data["reference"])
        return f"Agency approval of the {d.get_confirmed_category_display()} recorded."


# --- The change's page ---------------------------------------------------------------------------------------------


def _answer(question: questionnaire.Question, answers: dict[str, Any]) -> str:
    value = answers.get(question.key)
    if value is None:
        return "—"
    if question.kind == "bool":
        return "Yes" if value else "No"
    return dict(question.choices).get(value, str(value))


class ChangeDetailView(ScopedPageMixin, DetailView):
    """The change as the reader may see it (a sponsor: its own lines, filings, route and approval only), with the
    actions of the reader's own party."""

    selector = selectors.change_list
    template_name = "changes/change_detail.html"
    context_object_name = "change"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        change: ChangeRequest = self.object
        member = self.membership
        org = member.organization_id
        owner = change.organization_id == org
        author = can(member, Capability.AUTHOR_QUALITY_RECORDS)
        approver = can(member, Capability.APPROVE_QUALITY_RECORDS)
        routes = list(selectors.routes_of(membership=member, change=change))
        approvals = list(selectors.approvals_of(membership=member, change=change))
        history = selectors.history_of(membership=member, change=change)
        review = selectors.review_list(membership=member).filter(change=change).first()
        signed: dict[int, list[Signature]] = {}
        approval_ids = [a.pk for a in approvals] + [a.pk for _, a in history if a is not None]
        if approval_ids:
            for sig in Signature.objects.filter(record_table=Approval._meta.db_table,
                                                record_id__in=approval_ids).order_by("signed_at", "id"):
                signed.setdefault(sig.record_id, []).append(sig)
        decidable = change.state in services.DECIDABLE and approver
        filings = []
        for a in selectors.assessments_of(membership=member, change=change):
            decision: FilingDecision | None = getattr(a, "decision", None)
            mine = a.sponsor_id == org
            decide = (FilingDecisionForm(assessment=a, auto_id=f"id_filing{a.pk}_%s")
                      if mine and decidable and a.needs_decision and decision is None else None)
            agency = (AgencyApprovalForm(auto_id=f"id_agency{decision.pk}_%s",
                                         initial={"approved_on": timezone.localdate()})
                      if mine and approver and decision is not None and decision.needs_agency_approval
                      and decision.agency_approved_on is None and change.state != State.CANCELLED else None)
            filings.append((a, decision, decide, agency))
        my_route = next((r for r in routes if r.sponsor_id == org and r.requirement == Requirement.APPROVAL), None)
        decided = any(a.organization_id == org for a in approvals)
        pending = change.state == State.PENDING_APPROVAL
        untold = [r for r in routes if r.requirement == Requirement.NOTIFY and r.notified_at is None]
        answers = change.answers or {}
        return {
            **super().get_context_data(**kwargs), "owner": owner,
            "lines": list(selectors.lines_of(membership=member, change=change)),
            "questions": [(q, _answer(q, answers)) for q in questionnaire.questions_for(change.change_type)],
            "filings": filings, "routes": routes,
            "approvals": [(a, signed.get(a.pk, [])) for a in approvals],
            "history": [(r, a, signed.get(a.pk, []) if a else []) for r, a in history],
            "documents": list(selectors.documents_of(membership=member, change=change)),
            "review": review, "review_signatures": list(signatures_of(review)) if review else [],
            "change_signatures": list(signatures_of(change)),
            "blockers": services.implementation_blockers(change, member) if change.state in IMPLEMENTABLE else [],
            "stage_labels": STAGE_LABELS,
            "can_edit": owner and change.is_editable and author,
            "impact_form": ImpactForm(change_type=change.change_type, initial=ImpactForm.initial_for(change),
                                      auto_id="id_impact_%s") if owner and change.is_editable and author else None,
            "can_submit": owner and change.state == State.ASSESSMENT and author,
            "notify_form": NotifyForm(auto_id="id_notify_%s") if owner and untold and author
            and change.state in IMPLEMENTABLE else None,
            "sponsor_form": SponsorDecisionForm(auto_id="id_sponsor_%s") if my_route and pending and approver
            and not decided else None,
            "approve_form": PasswordForm(auto_id="id_approve_%s") if owner and pending and approver else None,
            "author_is_me": change.created_by_id == member.user_id,
            "can_implement": owner and change.state in IMPLEMENTABLE and author,
            "withdraw_form": WithdrawForm(auto_id="id_withdraw_%s", initial={"version": change.version})
            if owner and pending and author else None,
            "effectiveness_form": EffectivenessForm(auto_id="id_effect_%s", initial={"version": change.version})
            if owner and change.state == State.IMPLEMENTED and author else None,
            "close_form": PasswordForm(auto_id="id_close_%s") if owner and approver
            and change.state == State.EFFECTIVENESS_REVIEW else None,
            "cancel_form": ReasonPasswordForm(auto_id="id_cancel_%s") if owner and approver
            and change.state in CANCELLABLE else None,
            "document_form": DocumentForm(auto_id="id_document_%s") if owner and author
            and change.state in services.DOCUMENT_STATES else None,
        }


class DocumentView(ScopedPageMixin, SingleObjectMixin, View):
    """A document linked to the change, as an attachment; found through the change (404 for anyone who cannot
    see it) and then the document selector."""

    selector = selectors.change_list
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        document: ChangeDocument = get_object_or_404(
            selectors.documents_of(membership=self.membership, change=self.get_object()), pk=kwargs["document"])
        response = files.file_response(document.stored)
        response["Cache-Control"] = "private, no-store"
        return response


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    """The change dossier PDF, as the reader may see the change."""

    selector = selectors.change_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from changes.pdf import render_dossier

        change = self.get_object()
        response = HttpResponse(render_dossier(membership=self.membership, change=change),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{change.number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
