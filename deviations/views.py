"""Pages for deviations. Thin: ``deviations.selectors`` to read, ``deviations.services`` to write (the API uses the
same), ``qms.pages`` for the one-object forms and buttons."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from deviations import selectors, services
from deviations.export import csv_response
from deviations.filters import DeviationFilter, FlagFilter
from deviations.forms import (
    AcknowledgeForm,
    CauseForm,
    ClassifyForm,
    CommentForm,
    DecisionForm,
    DeviationForm,
    EditForm,
    ExtensionForm,
    FlagReviewForm,
    InvestigationForm,
    NotifyForm,
    lines_from_post,
)
from deviations.models import ConsistencyFlag, Deviation, ExtensionRequest, Notice
from deviations.pdf import deviation_pdf_response
from deviations.taxonomy import CATEGORIES, CODES
from part11 import signatures
from qms.forms import PasswordForm, ReasonForm, ReasonPasswordForm
from qms.pages import ObjectButton, ObjectForm, add_service_errors, render_list_with_form
from tenants import files
from tenants.forms import UploadForm
from tenants.models import Product, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin


def _back(deviation: Deviation) -> str:
    return reverse("deviation-detail", args=[deviation.pk])


def _sites(membership: Any) -> list[tuple[int, str]]:
    return list(Site.objects.filter(organization_id=membership.organization_id, is_active=True)
                .values_list("pk", "name"))


def _products(membership: Any) -> list[Product]:
    """What the CMO makes for its sponsors: the products its partnerships name (one sponsor each)."""
    return list(Product.objects.filter(partnerships__cmo_id=membership.organization_id)
                .select_related("organization").distinct().order_by("code"))


class DeviationListView(ScopedPageMixin, ListView):
    selector = selectors.deviation_list
    filterset_class = DeviationFilter
    template_name = "deviations/deviation_list.html"
    context_object_name = "deviations"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member = self.membership
        is_owner_side = member.organization.is_cmo
        counts = selectors.counts_by_state(selectors.deviation_list(membership=member))
        context.update(
            filter=self.filterset, is_cmo=is_owner_side,
            status_counts=[(value, label, counts.get(value, 0)) for value, label in Deviation.State.choices],
            query=self.request.GET.urlencode(),
            can_report=is_owner_side and can(member, Capability.RECORD_OPERATIONS),
            sponsors=(sorted({(p.organization_id, p.organization.name) for p in _products(member)})
                      if is_owner_side else []),
            products=(_products(member) if is_owner_side
                      else Product.objects.filter(organization_id=member.organization_id).order_by("code")),
            sites=(_sites(member) if is_owner_side else []),
        )
        return context


class DeviationExportView(ScopedPageMixin, View):
    """The filtered list as CSV (products and sponsors only as the member may see them)."""

    selector = selectors.deviation_list
    filterset_class = DeviationFilter
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return csv_response(self.get_queryset())


class DeviationCreateView(ScopedPageMixin, FormView):
    selector = selectors.deviation_list
    writes = True
    write_capability = Capability.RECORD_OPERATIONS
    form_class = DeviationForm
    template_name = "deviations/deviation_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": _sites(self.membership)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        chosen = {line.product_id: line for line in lines_from_post(self.request.POST, [
            p.pk for p in _products(self.membership)])} if self.request.method == "POST" else {}
        return {**super().get_context_data(**kwargs), "title": "Report a deviation", "products": [
            (p, p.pk in chosen, ", ".join(chosen[p.pk].batch_numbers) if p.pk in chosen else "")
            for p in _products(self.membership)], "cancel_url": reverse("deviations")}

    def form_valid(self, form: DeviationForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        site = Site.objects.filter(pk=data.pop("site"), organization_id=self.membership.organization_id).first()
        if site is None:
            form.add_error("site", "Choose one of your organization's sites.")
            return self.form_invalid(form)
        lines = lines_from_post(self.request.POST, [p.pk for p in _products(self.membership)])
        try:
            with transaction.atomic():  # a refused report leaves no draft behind
                deviation = services.deviation_create(membership=self.membership, site=site, lines=lines, **data)
                if self.request.POST.get("report"):
                    services.deviation_report(membership=self.membership, deviation=deviation)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{deviation.number} {'reported' if deviation.reported_at else 'saved'}.")
        return redirect(_back(deviation))

    def form_invalid(self, form: DeviationForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DeviationDetailView(ScopedPageMixin, DetailView):
    selector = selectors.deviation_list
    template_name = "deviations/deviation_detail.html"
    context_object_name = "deviation"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from capa.selectors import capa_list

        deviation: Deviation = self.object
        member = self.membership
        owner = deviation.organization_id == member.organization_id
        author = can(member, Capability.AUTHOR_QUALITY_RECORDS)
        approver = can(member, Capability.APPROVE_QUALITY_RECORDS)
        state = deviation.state
        lines = list(selectors.lines_of(membership=member, deviation=deviation))
        notices = list(selectors.notices_of(membership=member, deviation=deviation))
        sponsors = sorted({(line.sponsor_id, line.sponsor.name) for line in lines}, key=lambda s: s[1])
        return {
            **super().get_context_data(**kwargs), "owner": owner, "lines": lines, "notices": notices,
            "comments": selectors.comments_of(membership=member, deviation=deviation),
            "timeline": selectors.timeline_of(membership=member, deviation=deviation),
            "repeats": selectors.repeats_of(membership=member, deviation=deviation),
            "capas": capa_list(membership=member).filter(source_deviation=deviation),
            "signatures": signatures.signatures_of(deviation).select_related("signer"),
            "extensions": selectors.extension_list(membership=member).filter(deviation=deviation) if owner else [],
            "flags": selectors.flag_list(membership=member).filter(Q(first=deviation) | Q(second=deviation))
            if owner else [],
            "missing": services.missing_for_approval(deviation) if owner and state in (
                Deviation.State.UNDER_INVESTIGATION, Deviation.State.PENDING_APPROVAL) else [],
            "can_edit": owner and deviation.is_editable and can(
                member, Capability.RECORD_OPERATIONS if state == Deviation.State.DRAFT
                else Capability.AUTHOR_QUALITY_RECORDS),
            "can_report": owner and state == Deviation.State.DRAFT and can(member, Capability.RECORD_OPERATIONS),
            "can_author": owner and author,
            "can_approve": owner and approver,
            "pending_notices": [n for n in notices if owner and not n.superseded and n.notified_at is None],
            "can_comment": author and (owner or bool(lines)),
            "comment_form": CommentForm(sponsors=sponsors if owner else None),
            "password_form": PasswordForm(),
            "files": files.files_of(membership=member, record=deviation),
        }


class DeviationEditView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.RECORD_OPERATIONS
    form_class = EditForm
    title = "Edit"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": _sites(self.membership)}

    def get_initial(self) -> dict[str, Any]:
        d = self.target()
        return {"title": d.title, "site": d.site_id, "area_equipment": d.area_equipment,
                "process_step": d.process_step, "category": d.category, "discovered_at": d.discovered_at,
                "discovered_by": d.discovered_by, "description": d.description,
                "immediate_actions": d.immediate_actions, "version": d.version}

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        data = dict(data)
        version = data.pop("version")
        data["site"] = Site.objects.filter(pk=data["site"], organization_id=self.membership.organization_id).first()
        if data["site"] is None:
            raise ValidationError({"site": "Choose one of your organization's sites."})
        services.deviation_update(membership=self.membership, deviation=deviation, expected_version=version, **data)
        return "Saved."


class LinesEditView(ScopedPageMixin, SingleObjectMixin, View):
    """The affected products and batches: one row per product the CMO makes (each names one sponsor)."""

    selector = selectors.deviation_list
    writes = True
    write_capability = Capability.RECORD_OPERATIONS
    template_name = "deviations/lines_form.html"
    http_method_names = ["get", "post"]

    def page(self, deviation: Deviation, chosen: dict[int, str], error: str = "", status: int = 200
             ) -> HttpResponse:
        from django.shortcuts import render

        return render(self.request, self.template_name, {
            "deviation": deviation, "error": error,
            "products": [(p, p.pk in chosen, chosen.get(p.pk, "")) for p in _products(self.membership)]},
            status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        deviation = self.get_object()
        return self.page(deviation, {line.product_id: ", ".join(line.batch_numbers)
                                     for line in deviation.lines.all()})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from qms.errors import StaleWrite

        deviation = self.get_object()
        lines = lines_from_post(request.POST, [p.pk for p in _products(self.membership)])
        chosen = {line.product_id: ", ".join(line.batch_numbers) for line in lines}
        try:
            services.lines_set(membership=self.membership, deviation=deviation, lines=lines,
                               expected_version=int(request.POST.get("version") or deviation.version))
        except StaleWrite as exc:
            return self.page(deviation, chosen, str(exc), 409)
        except ValidationError as exc:
            return self.page(deviation, chosen, " ".join(exc.messages), 400)
        messages.success(request, "Affected products saved.")
        return redirect(_back(deviation))


class ReportView(ObjectButton):
    selector = selectors.deviation_list
    write_capability = Capability.RECORD_OPERATIONS
    back = staticmethod(_back)

    def act(self, deviation: Deviation) -> str:
        services.deviation_report(membership=self.membership, deviation=deviation)
        return f"{deviation.number} reported: QA is asked to classify it."


class ClassifyView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ClassifyForm
    title = "Classify"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        d = self.target()
        return {"classification": d.classification, "rationale": d.classification_rationale, "version": d.version}

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.deviation_classify(membership=self.membership, deviation=deviation,
                                    classification=data["classification"], rationale=data["rationale"],
                                    expected_version=data["version"])
        return f"Classified {deviation.get_classification_display().lower()}; sponsor notification clocks running."


class StartInvestigationView(ObjectButton):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    back = staticmethod(_back)

    def act(self, deviation: Deviation) -> str:
        services.deviation_start_investigation(membership=self.membership, deviation=deviation)
        return "Investigation started."


class InvestigationView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = InvestigationForm
    title = "Investigation"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "causes": selectors.cause_choices(membership=self.membership),
                "lines": list(self.target().lines.select_related("product"))}

    def get_initial(self) -> dict[str, Any]:
        d = self.target()
        return {"investigation_method": d.investigation_method, "findings": d.findings,
                "root_cause_code": d.root_cause_code, "conclusion": d.conclusion, "outcome": d.outcome,
                "capa_not_required_reason": d.capa_not_required_reason, "version": d.version}

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        form = self.get_form()
        form.is_valid()
        services.investigation_update(membership=self.membership, deviation=deviation, impacts=form.impacts(),
                                      expected_version=data["version"], **form.investigation())
        return "Investigation saved." + (" It repeats an earlier deviation: a CAPA is expected."
                                         if deviation.is_repeat else "")


class SubmitView(ObjectButton):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    back = staticmethod(_back)

    def act(self, deviation: Deviation) -> str:
        services.deviation_submit(membership=self.membership, deviation=deviation)
        return "Submitted for QA approval."


class ReturnView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    title = "Return for rework"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.deviation_return(membership=self.membership, deviation=deviation, reason=data["reason"])
        return "Returned for rework."


class CloseView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = PasswordForm
    title = "Approve and close"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.deviation_sign_close(request=self.request, membership=self.membership, deviation=deviation,
                                      password=data["password"], otp=data.get("otp"))
        return f"Signed. {deviation.number} is closed."


class CancelView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonPasswordForm
    title = "Cancel"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.deviation_cancel(request=self.request, membership=self.membership, deviation=deviation,
                                  reason=data["reason"], password=data["password"], otp=data.get("otp"))
        return f"Signed. {deviation.number} is cancelled."


class ReopenView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    title = "Reopen"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.deviation_reopen(membership=self.membership, deviation=deviation, reason=data["reason"])
        return "Reopened; its signatures are void and a new closure clock runs."


class NotifyView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = NotifyForm
    title = "Notify the affected sponsors"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        notices = services.deviation_notify(membership=self.membership, deviation=deviation,
                                            message=data["message"])
        return f"Notified {len(notices)} sponsor{'s' if len(notices) != 1 else ''} (in-app and e-mail)."


class CommentView(ScopedPageMixin, SingleObjectMixin, View):
    """Post a comment from the deviation page: any party that sees the deviation and may author (the sponsor's
    goes to the CMO; the CMO's to one sponsor, or stays internal)."""

    selector = selectors.deviation_list
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        deviation = self.get_object()
        owner = deviation.organization_id == self.membership.organization_id
        sponsors = list(deviation.lines.values_list("sponsor_id", "sponsor__name").distinct()) if owner else None
        form = CommentForm(request.POST, sponsors=sponsors)
        if not form.is_valid():
            messages.error(request, "Write the comment first.")
            return redirect(_back(deviation))
        try:
            services.comment_add(membership=self.membership, deviation=deviation, body=form.cleaned_data["body"],
                                 kind=form.cleaned_data["kind"], sponsor_id=form.cleaned_data.get("sponsor"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Comment posted.")
        return redirect(_back(deviation) + "#comments")


class ExtensionRequestView(ObjectForm):
    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ExtensionForm
    title = "Request an extension of the closure target"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        services.extension_request(membership=self.membership, deviation=deviation,
                                   due_date=data["requested_due_date"], justification=data["justification"])
        return "Extension requested; another QA approver decides."


class ExtensionDecideView(ObjectForm):
    selector = selectors.extension_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = DecisionForm
    title = "Decide"

    def back(self, extension: ExtensionRequest) -> str:
        return _back(extension.deviation)

    def act(self, extension: ExtensionRequest, data: dict[str, Any]) -> str:
        services.extension_decide(membership=self.membership, extension=extension,
                                  approve=data["decision"] == "approve", note=data["note"])
        return f"Extension {extension.get_state_display().lower()}."


class AcknowledgeView(ObjectForm):
    """The sponsor acknowledges the CMO's notice: its own row, so the notice (the CMO's) is not written."""

    selector = selectors.notice_list
    writes = False
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = AcknowledgeForm
    title = "Acknowledge"

    def back(self, notice: Notice) -> str:
        return _back(notice.deviation)

    def act(self, notice: Notice, data: dict[str, Any]) -> str:
        services.notice_acknowledge(membership=self.membership, notice=notice, note=data["note"])
        return "Acknowledged; the CMO is told."


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    selector = selectors.deviation_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return deviation_pdf_response(request, self.membership, self.get_object())


# --- CMO-only reports and taxonomy ------------------------------------------------------------------------------


class ConsistencyReportView(ScopedPageMixin, ListView):
    """Open cross-sponsor consistency flags, for the CMO's QA head (quality-unit independence)."""

    selector = selectors.flag_list
    template_name = "deviations/consistency.html"
    context_object_name = "flags"
    paginate_by = 50

    filterset_class = FlagFilter

    def filter_data(self) -> Any:
        data = self.request.GET.copy()
        data.setdefault("state", ConsistencyFlag.State.OPEN)
        return data

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "states": ConsistencyFlag.State.choices,
                "state": self.request.GET.get("state", ConsistencyFlag.State.OPEN),
                "can_review": can(self.membership, Capability.APPROVE_QUALITY_RECORDS)}


class FlagReviewView(ObjectForm):
    selector = selectors.flag_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = FlagReviewForm
    title = "Review"

    def back(self, flag: ConsistencyFlag) -> str:
        return reverse("deviation-consistency")

    def act(self, flag: ConsistencyFlag, data: dict[str, Any]) -> str:
        services.flag_review(membership=self.membership, flag=flag, note=data["note"])
        return "Reviewed."


class TaxonomyView(ScopedPageMixin, ListView):
    """The standard root-cause tree and the organization's own sub-codes (QA approvers add them)."""

    selector = selectors.own_causes
    template_name = "deviations/taxonomy.html"
    context_object_name = "own"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from deviations.taxonomy import VERSION

        context = super().get_context_data(**kwargs)
        context.update(version=VERSION, tree=[(c, [s for s in CODES if s.parent == c.code]) for c in CATEGORIES],
                       other=[s for s in CODES if not s.parent])
        if can(self.membership, Capability.APPROVE_QUALITY_RECORDS):
            context["form"] = kwargs.get("form") or CauseForm()
        return context


class CauseAddView(ScopedPageMixin, FormView):
    selector = selectors.own_causes
    writes = True
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = CauseForm
    http_method_names = ["post"]

    def form_valid(self, form: CauseForm) -> HttpResponse:
        try:
            cause = services.cause_add(membership=self.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Added {cause}.")
        return redirect("deviation-taxonomy")

    def form_invalid(self, form: CauseForm) -> HttpResponse:
        return render_list_with_form(TaxonomyView, self.request, self.membership, form)


class AttachmentUploadView(ObjectForm):
    """Attach evidence to the write-up (the CMO only: every affected sponsor sees the deviation's attachments, so
    sponsors contribute through their own comment threads instead)."""

    selector = selectors.deviation_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = UploadForm
    title = "Attach a file"
    back = staticmethod(_back)

    def act(self, deviation: Deviation, data: dict[str, Any]) -> str:
        stored = files.file_store(membership=self.membership, record=deviation, upload=data["file"])
        return f"Uploaded {stored.original_name} (SHA-256 {stored.sha256})."
