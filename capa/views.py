"""Pages for CAPA. Thin: ``capa.selectors`` to read, ``capa.services`` to write (the API uses the same)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from capa import selectors, services
from capa.filters import CapaFilter
from capa.forms import ActionForm, CapaEditForm, CapaForm, CompleteForm, EffectivenessPlanForm, EffectivenessResultForm
from capa.models import Capa, CapaAction
from deviations.selectors import deviation_list
from part11 import signatures
from part11.pdf import pdf_response
from qms.forms import PasswordForm, ReasonPasswordForm
from qms.pages import ObjectForm, add_service_errors
from tenants.models import Membership
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin


def _back(capa: Capa) -> str:
    return reverse("capa-detail", args=[capa.pk])


def _own_deviations(membership: Membership) -> list[tuple[int, str]]:
    return [(d.pk, f"{d.number} {d.title}") for d in deviation_list(membership=membership).order_by("-id")[:200]]


class CapaListView(ScopedPageMixin, ListView):
    selector = selectors.capa_list
    filterset_class = CapaFilter
    template_name = "capa/capa_list.html"
    context_object_name = "capas"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "filter": self.filterset,
                "can_create": can(self.membership, Capability.AUTHOR_QUALITY_RECORDS)}


class CapaCreateView(ScopedPageMixin, FormView):
    selector = selectors.capa_list
    writes = True
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CapaForm
    template_name = "tenants/form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "deviations": _own_deviations(self.membership)}

    def get_initial(self) -> dict[str, Any]:
        deviation = self.request.GET.get("deviation", "")
        return {"source": Capa.Source.DEVIATION, "source_deviation": deviation} if deviation.isdigit() else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Raise a CAPA", "cancel_url": reverse("capas")}

    def form_valid(self, form: CapaForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        deviation_id = data.pop("source_deviation")
        deviation = (deviation_list(membership=self.membership).filter(pk=deviation_id).first()
                     if deviation_id else None)
        if deviation_id and deviation is None:
            form.add_error("source_deviation", "No such deviation that you can see.")
            return self.form_invalid(form)
        try:
            capa = services.capa_create(membership=self.membership, source_deviation=deviation, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{capa.number} raised: add its actions.")
        return redirect(_back(capa))

    def form_invalid(self, form: CapaForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CapaDetailView(ScopedPageMixin, DetailView):
    selector = selectors.capa_list
    template_name = "capa/capa_detail.html"
    context_object_name = "capa"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        capa: Capa = self.object
        member = self.membership
        owner = capa.organization_id == member.organization_id
        is_open = capa.state == Capa.State.OPEN
        return {
            **super().get_context_data(**kwargs), "owner": owner,
            "actions": selectors.actions_of(capa=capa),
            "signatures": signatures.signatures_of(capa).select_related("signer"),
            "can_author": owner and is_open and can(member, Capability.AUTHOR_QUALITY_RECORDS),
            "can_approve": owner and can(member, Capability.APPROVE_QUALITY_RECORDS),
            "closure_refusal": services.closure_refusal(capa) if owner and is_open else None,
            "password_form": PasswordForm(),
        }


class CapaEditView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CapaEditForm
    title = "Edit"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        c = self.target()
        return {"title": c.title, "description": c.description, "source_reference": c.source_reference,
                "version": c.version}

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        data = dict(data)
        services.capa_update(membership=self.membership, capa=capa, expected_version=data.pop("version"), **data)
        return "Saved."


class ActionAddView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ActionForm
    title = "Add an action"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        owners = [(m.pk, f"{m.user.printed_name} ({m.get_role_display()})") for m in Membership.objects.filter(
            organization_id=self.membership.organization_id, is_active=True).select_related("user")]
        return {**super().get_form_kwargs(), "owners": owners}

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        owner = Membership.objects.filter(pk=data["owner"], organization_id=self.membership.organization_id).first()
        if owner is None:
            raise ValidationError({"owner": "Choose a member of your organization."})
        services.action_add(membership=self.membership, capa=capa, kind=data["kind"],
                            description=data["description"], owner=owner, due_date=data["due_date"])
        return "Action added; its owner sees the due date in My deadlines."


class ActionCompleteView(ObjectForm):
    """The action's owner (or a QA author) marks it done, with the evidence."""

    selector = selectors.action_list
    writes = False  # the owner may be an operator; the service checks owner-or-author and the organization
    form_class = CompleteForm
    title = "Mark done"

    def back(self, action: CapaAction) -> str:
        return _back(action.capa)

    def act(self, action: CapaAction, data: dict[str, Any]) -> str:
        services.action_complete(membership=self.membership, action=action, evidence=data["evidence"])
        return "Action done."


class EffectivenessPlanView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = EffectivenessPlanForm
    title = "Plan the effectiveness check"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        c = self.target()
        return {"criteria": c.effectiveness_criteria, "due_date": c.effectiveness_due,
                "close_before_check": c.close_before_check}

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        services.effectiveness_plan(membership=self.membership, capa=capa, criteria=data["criteria"],
                                    due_date=data["due_date"], close_before_check=data["close_before_check"])
        return "Effectiveness check scheduled."


class EffectivenessResultView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = EffectivenessResultForm
    title = "Record the effectiveness check"
    back = staticmethod(_back)

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        services.effectiveness_record(membership=self.membership, capa=capa, passed=data["result"] == "passed",
                                      note=data["note"])
        return "Effectiveness check recorded."


class CloseView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = PasswordForm
    title = "Approve and close"
    back = staticmethod(_back)

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        services.capa_sign_close(request=self.request, membership=self.membership, capa=capa,
                                 password=data["password"], otp=data.get("otp"))
        return f"Signed. {capa.number} is closed."


class CancelView(ObjectForm):
    selector = selectors.capa_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonPasswordForm
    title = "Cancel"
    back = staticmethod(_back)

    def act(self, capa: Capa, data: dict[str, Any]) -> str:
        services.capa_cancel(request=self.request, membership=self.membership, capa=capa, reason=data["reason"],
                             password=data["password"], otp=data.get("otp"))
        return f"Signed. {capa.number} is cancelled."


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    selector = selectors.capa_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        capa = self.get_object()
        return pdf_response(membership=self.membership, record=capa, request=request, template="capa/pdf.html",
                            extra={"capa": capa, "actions": list(selectors.actions_of(capa=capa)),
                                   "record_label": str(capa)})
