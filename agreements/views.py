"""Pages for quality agreements. Thin: ``agreements.selectors`` to read; ``agreements.services`` and
``part11.signatures`` to write — the same modules the API uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from agreements import compare, selectors, services
from agreements.catalogue import SECTIONS, NotificationEvent
from agreements.forms import (
    ActivityForm,
    ConsentForm,
    DataSharingForm,
    OverrideForm,
    SectionForm,
    StartForm,
    TermsForm,
)
from agreements.models import QualityAgreement
from agreements.pdf import agreement_context, agreement_pdf_response
from clocks.calendars import CalendarCode, Unit
from part11 import signatures
from qms.errors import StaleWrite
from qms.forms import PasswordForm, ReasonForm
from qms.pages import add_service_errors, render_list_with_form
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin
from tenants.selectors import partnership_list

STALE = "Someone changed this agreement while you were editing; reload it and try again."



def _approval_step(membership: Any, agreement: QualityAgreement) -> str:
    return "approve-sponsor" if membership.organization_id == agreement.sponsor_id else "approve-cmo"


class AgreementListView(ScopedPageMixin, ListView):
    selector = selectors.agreement_list
    template_name = "agreements/agreement_list.html"
    context_object_name = "agreements"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if can(self.membership, Capability.AUTHOR_QUALITY_RECORDS):
            context["start_form"] = StartForm(partnerships=partnership_list(membership=self.membership).filter(
                **{f"{'sponsor' if self.membership.organization.is_sponsor else 'cmo'}_id":
                   self.membership.organization_id}))
        return context


class AgreementStartView(ScopedPageMixin, FormView):
    selector = selectors.agreement_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = StartForm
    template_name = "tenants/form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "partnerships": partnership_list(membership=self.membership)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Start a quality agreement",
                "cancel_url": reverse("agreements")}

    def form_valid(self, form: StartForm) -> HttpResponse:
        partnership = partnership_list(membership=self.membership).get(pk=form.cleaned_data["partnership"])
        try:
            agreement = services.agreement_create(membership=self.membership, partnership=partnership,
                                                  effective_from=form.cleaned_data.get("effective_from"))
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Started {agreement}.")
        return redirect("agreement-detail", pk=agreement.pk)


class AgreementDetailView(ScopedPageMixin, DetailView):
    selector = selectors.agreement_list
    template_name = "agreements/agreement_detail.html"
    context_object_name = "agreement"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from changes.drift import drift_flags  # change control reads the agreement, not the other way round

        agreement: QualityAgreement = self.object
        member = self.membership
        live = signatures.signatures_of(agreement).select_related("signer")
        signed_steps = {s.step for s in live if s.voided_at is None}
        in_review = agreement.state == QualityAgreement.State.IN_REVIEW
        return {
            **super().get_context_data(**kwargs), **agreement_context(agreement),
            "signatures": list(live), "signed_steps": signed_steps,
            "can_edit": agreement.is_editable and can(member, Capability.AUTHOR_QUALITY_RECORDS),
            "can_review_actions": in_review and can(member, Capability.AUTHOR_QUALITY_RECORDS),
            "can_approve": in_review and can(member, Capability.APPROVE_QUALITY_RECORDS)
            and _approval_step(member, agreement) not in signed_steps,
            "can_terminate": agreement.state == QualityAgreement.State.EFFECTIVE
            and can(member, Capability.APPROVE_QUALITY_RECORDS),
            "password_form": PasswordForm(), "override_form": OverrideForm(),
            "section_specs": SECTIONS, "drift_flags": drift_flags(agreement.partnership),
        }


class _AgreementForm(ScopedPageMixin, FormView):
    """A form on one agreement the acting party may edit (draft, author role, a party to it)."""

    selector = selectors.agreement_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    template_name = "tenants/form.html"
    title = ""

    def agreement(self) -> QualityAgreement:
        if not hasattr(self, "_agreement"):
            self._agreement = self.get_object()
        return self._agreement

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        agreement = self.agreement()
        return {**super().get_context_data(**kwargs), "agreement": agreement, "title": f"{self.title}: {agreement}",
                "cancel_url": reverse("agreement-detail", args=[agreement.pk])}

    def run(self, form: Any, call: Any) -> HttpResponse:
        try:
            call()
        except StaleWrite:
            form.add_error(None, STALE)
            return self.form_invalid(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        return redirect("agreement-detail", pk=self.agreement().pk)


class TermsEditView(_AgreementForm):
    form_class = TermsForm
    title = "Edit terms"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.agreement()
        if self.request.method == "GET":
            kwargs["initial"] = {"version": self.agreement().version}
        return kwargs

    def form_valid(self, form: TermsForm) -> HttpResponse:
        data = {name: form.cleaned_data[name] for name in services.TERM_FIELDS}
        fresh = selectors.agreement_list(membership=self.membership).get(pk=self.agreement().pk)
        return self.run(form, lambda: services.agreement_update(
            membership=self.membership, agreement=fresh, expected_version=form.cleaned_data["version"], **data))


class SectionEditView(_AgreementForm):
    form_class = SectionForm
    title = "Edit section"

    def get_initial(self) -> dict[str, Any]:
        section = self.agreement().sections.filter(key=self.kwargs["key"]).first()
        return {"body": section.body if section else "", "version": self.agreement().version}

    def form_valid(self, form: SectionForm) -> HttpResponse:
        return self.run(form, lambda: services.section_update(
            membership=self.membership, agreement=self.agreement(), key=self.kwargs["key"],
            body=form.cleaned_data["body"], expected_version=form.cleaned_data["version"]))


class RaciEditView(_AgreementForm):
    """The RACI grid: one text cell per party and activity (letters R, A, C, I); gaps are flagged above it."""

    form_class = ReasonForm  # unused: the grid is read from the POST directly
    template_name = "agreements/raci_edit.html"
    title = "RACI matrix"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.grid({}, None)

    def grid(self, errors: dict[str, list[str]], submitted: dict[str, tuple[str, str]] | None,
             status: int = 200, message: str = "") -> HttpResponse:
        from agreements.checks import raci_findings

        agreement = self.agreement()
        rows = list(agreement.raci.all())
        cells = submitted or {r.activity_code: (r.sponsor, r.cmo) for r in rows}
        return render(self.request, self.template_name, {
            "agreement": agreement, "rows": [(r, *cells.get(r.activity_code, (r.sponsor, r.cmo)),
                                              errors.get(r.activity_code, [])) for r in rows],
            "findings": raci_findings(rows), "error": message,
        }, status=status)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agreement = self.agreement()
        submitted = {r.activity_code: (request.POST.get(f"sponsor-{r.activity_code}", ""),
                                       request.POST.get(f"cmo-{r.activity_code}", "")) for r in agreement.raci.all()}
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            return self.grid({}, submitted, 400, "The form lost its version; reload the page.")
        try:
            services.raci_update(membership=self.membership, agreement=agreement, rows=submitted,
                                 expected_version=version)
        except StaleWrite:
            return self.grid({}, submitted, 409, STALE)
        except ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for key, messages_ in exc.message_dict.items():
                errors.setdefault(key.split(".")[1] if key.startswith("raci.") else key, []).extend(messages_)
            return self.grid(errors, submitted, 400, "Some cells are not valid.")
        messages.success(request, "RACI matrix saved.")
        return redirect("agreement-raci", pk=agreement.pk)


class RaciActivityAddView(_AgreementForm):
    """Extend the organization's catalogue with an activity of its own and add it to this draft's matrix."""

    form_class = ActivityForm
    title = "Add an activity of your organization"

    def form_valid(self, form: ActivityForm) -> HttpResponse:
        agreement = self.agreement()  # found (or 404) and checked writable before anything is created

        def add() -> None:
            with transaction.atomic():  # both or neither: no orphan catalogue entry if the draft refuses it
                services.activity_create(membership=self.membership, **form.cleaned_data)
                services.raci_add_activity(membership=self.membership, agreement=agreement,
                                           code=form.cleaned_data["code"])

        response = self.run(form, add)
        if response.status_code == 302:
            return redirect("agreement-raci", pk=self.agreement().pk)
        return response


class WindowsEditView(_AgreementForm):
    form_class = ReasonForm  # unused: read from the POST directly
    template_name = "agreements/windows_edit.html"
    title = "Notification windows"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.page({}, "")

    def page(self, errors: dict[str, list[str]], message: str, status: int = 200) -> HttpResponse:
        agreement = self.agreement()
        current = {w.event: w for w in agreement.windows.all()}
        return render(self.request, self.template_name, {
            "agreement": agreement, "units": Unit.choices, "calendars": CalendarCode.choices, "error": message,
            "rows": [(event, label, current.get(event), errors.get(event, [])) for event, label in
                     NotificationEvent.choices]}, status=status)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        windows: dict[str, tuple[Any, str, str]] = {}
        for event in NotificationEvent.values:
            raw = request.POST.get(f"amount-{event}", "").strip()
            if raw:
                amount: Any = int(raw) if raw.isdigit() else raw
                windows[event] = (amount, request.POST.get(f"unit-{event}", ""),
                                  request.POST.get(f"calendar-{event}", ""))
        try:
            services.windows_update(membership=self.membership, agreement=self.agreement(), windows=windows,
                                    expected_version=int(request.POST.get("version") or 0) or None)
        except StaleWrite:
            return self.page({}, STALE, 409)
        except ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for key, messages_ in exc.message_dict.items():
                errors.setdefault(key.split(".")[1] if "." in key else key, []).extend(messages_)
            return self.page(errors, "Some windows are not valid.", 400)
        messages.success(request, "Notification windows saved.")
        return redirect("agreement-detail", pk=self.agreement().pk)


class DataSharingEditView(_AgreementForm):
    form_class = DataSharingForm
    title = "Data-sharing terms"

    def get_initial(self) -> dict[str, Any]:
        return {"terms": "\n".join(f"{d.data} | {d.format} | {d.frequency}"
                                   for d in self.agreement().data_sharing.all())}

    def form_valid(self, form: DataSharingForm) -> HttpResponse:
        terms = []
        for number, line in enumerate(form.cleaned_data["terms"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or not all(parts):
                form.add_error("terms", f"Line {number}: write “data | format | frequency”.")
                return self.form_invalid(form)
            terms.append((parts[0], parts[1], parts[2]))
        return self.run(form, lambda: services.data_sharing_set(membership=self.membership,
                                                                agreement=self.agreement(), terms=terms))


class _AgreementAction(_AgreementForm):
    """A state change from the agreement page (return, approve, override, terminate). Subclasses give ``act``:
    do it with the form's data and return the success message."""

    act: Callable[[QualityAgreement, dict[str, Any]], str]

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            message = self.act(self.agreement(), form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return redirect("agreement-detail", pk=self.agreement().pk)


class SubmitView(_AgreementForm):
    """Send a draft for review: a button, no form."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.agreement_submit(membership=self.membership, agreement=self.agreement())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Sent for review: both quality units may now approve it.")
        return redirect("agreement-detail", pk=self.agreement().pk)


class ReturnToDraftView(_AgreementAction):
    form_class = ReasonForm
    title = "Return to draft"

    def act(self, agreement: QualityAgreement, data: dict[str, Any]) -> str:
        services.agreement_return_to_draft(membership=self.membership, agreement=agreement, reason=data["reason"])
        return "Back to draft; its signatures are void."


class ApproveView(_AgreementAction):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = PasswordForm
    title = "Approve"

    def act(self, agreement: QualityAgreement, data: dict[str, Any]) -> str:
        signatures.sign(request=self.request, membership=self.membership, record=agreement,
                        step=_approval_step(self.membership, agreement), password=data["password"],
                        otp=data.get("otp"))
        agreement.refresh_from_db()
        return f"Signed. {agreement} is {agreement.get_state_display().lower()}."


class OverrideView(_AgreementAction):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = OverrideForm
    title = "Override failed checks"

    def act(self, agreement: QualityAgreement, data: dict[str, Any]) -> str:
        services.agreement_record_override(membership=self.membership, agreement=agreement,
                                           justification=data["justification"])
        signatures.sign(request=self.request, membership=self.membership, record=agreement, step="override-checks",
                        password=data["password"], otp=data.get("otp"))
        return "Checks overridden with your signed justification."


class TerminateView(_AgreementAction):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    title = "Terminate"

    def act(self, agreement: QualityAgreement, data: dict[str, Any]) -> str:
        services.agreement_terminate(membership=self.membership, agreement=agreement, reason=data["reason"])
        return "Terminated. See the termination and handover section for what is returned."


class CompareView(ScopedPageMixin, DetailView):
    selector = selectors.agreement_list
    template_name = "agreements/compare.html"
    context_object_name = "agreement"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        other = compare.other_version(self.membership, self.object, self.request.GET.get("other"))
        return {**super().get_context_data(**kwargs), "comparison": compare.compare(other, self.object),
                "versions": selectors.agreement_list(membership=self.membership).filter(
                    partnership_id=self.object.partnership_id).exclude(pk=self.object.pk)}


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    selector = selectors.agreement_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return agreement_pdf_response(request, self.membership, self.get_object())


# --- Subcontractor consent register ----------------------------------------------------------------------------


class ConsentListView(ScopedPageMixin, ListView):
    selector = selectors.consent_list
    template_name = "agreements/consent_list.html"
    context_object_name = "consents"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from agreements.catalogue import ACTIVITIES

        context = super().get_context_data(**kwargs)
        member = self.membership
        if can(member, Capability.AUTHOR_QUALITY_RECORDS) and member.organization.is_cmo:
            context["form"] = kwargs.get("form") or ConsentForm(
                partnerships=partnership_list(membership=member).filter(cmo_id=member.organization_id),
                activities=ACTIVITIES)
        context["can_approve"] = can(member, Capability.APPROVE_QUALITY_RECORDS)
        return context


class ConsentProposeView(ScopedPageMixin, FormView):
    selector = selectors.consent_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ConsentForm
    http_method_names = ["post"]

    def get_form_kwargs(self) -> dict[str, Any]:
        from agreements.catalogue import ACTIVITIES

        return {**super().get_form_kwargs(), "activities": ACTIVITIES,
                "partnerships": partnership_list(membership=self.membership).filter(
                    cmo_id=self.membership.organization_id)}

    def form_valid(self, form: ConsentForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        partnership = partnership_list(membership=self.membership).get(pk=data.pop("partnership"))
        try:
            services.consent_propose(membership=self.membership, partnership=partnership, **data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                raise
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Proposed; it stays flagged as unapproved until the sponsor signs.")
        return redirect("consents")

    def form_invalid(self, form: ConsentForm) -> HttpResponse:
        return render_list_with_form(ConsentListView, self.request, self.membership, form)


class ConsentApproveView(ScopedPageMixin, FormView):
    selector = selectors.consent_list
    writes = True
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = PasswordForm
    template_name = "tenants/form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": f"Consent to {self.get_object()}",
                "cancel_url": reverse("consents")}

    def form_valid(self, form: PasswordForm) -> HttpResponse:
        consent = self.get_object()
        try:
            signatures.sign(request=self.request, membership=self.membership, record=consent, step="approve",
                            password=form.cleaned_data["password"], otp=form.cleaned_data.get("otp"))
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Consent signed: {consent}.")
        return redirect("consents")


class ConsentWithdrawView(ScopedPageMixin, FormView):
    selector = selectors.consent_list
    writes = True
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    template_name = "tenants/form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": f"Withdraw consent to {self.get_object()}",
                "cancel_url": reverse("consents")}

    def form_valid(self, form: ReasonForm) -> HttpResponse:
        try:
            services.consent_withdraw(membership=self.membership, consent=self.get_object(),
                                      reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Consent withdrawn.")
        return redirect("consents")
