"""HTML pages for the tenancy core. Thin: selectors to read, services to write, the same ones the API uses."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from qms.errors import StaleWrite
from qms.pages import add_service_errors
from tenants import files, grants, selectors, services
from tenants.context import authenticated_user
from tenants.forms import (
    GrantForm,
    MemberAddForm,
    MemberForm,
    ProductForm,
    RevokeForm,
    SignForm,
    SiteForm,
    UploadForm,
)
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = request.membership if request.membership else None  # type: ignore[attr-defined]
    context: dict[str, Any] = {"memberships": list(selectors.memberships_of_user(user=authenticated_user(request)))}
    if membership is not None:
        context["partnerships"] = list(selectors.partnership_list(membership=membership))
        context["counts"] = selectors.dashboard_counts(membership=membership)
    return render(request, "tenants/home.html", context)


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    try:
        membership = services.active_organization_switch(
            user=authenticated_user(request), session=request.session, slug=request.POST.get("organization", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"You now act for {membership.organization.name}.")
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    return HttpResponseRedirect(target)


class PartnershipListView(ScopedPageMixin, ListView):
    selector = selectors.partnership_list
    template_name = "tenants/partnership_list.html"
    context_object_name = "partnerships"


class PartnershipDetailView(ScopedPageMixin, DetailView):
    selector = selectors.partnership_list
    template_name = "tenants/partnership_detail.html"
    context_object_name = "partnership"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["files"] = files.files_of(membership=self.membership, record=self.object)
        context["upload_form"] = UploadForm()
        context.update(signing_context(self.membership, self.object))
        return context


class SiteListView(ScopedPageMixin, ListView):
    selector = selectors.site_list
    template_name = "tenants/site_list.html"
    context_object_name = "sites"
    paginate_by = 50


class ProductListView(ScopedPageMixin, ListView):
    selector = selectors.product_list
    template_name = "tenants/product_list.html"
    context_object_name = "products"
    paginate_by = 50


class MemberListView(ScopedPageMixin, ListView):
    selector = selectors.member_list
    read_capability = Capability.MANAGE_MEMBERS
    template_name = "tenants/member_list.html"
    context_object_name = "members"
    paginate_by = 100


class _ServiceFormView(ScopedPageMixin, FormView):
    """A create-or-edit page whose save is one service call; validation errors come back on their fields."""

    writes = True
    write_capability = Capability.MANAGE_MASTER_DATA
    template_name = "tenants/form.html"
    success_url_name: str
    noun: str
    create_service: Any
    update_service: Any
    instance_kwarg: str

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.object: Any = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._load()
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._load()
        return super().post(request, *args, **kwargs)

    def _load(self) -> None:
        if self.pk_url_kwarg in self.kwargs:
            self.object = self.get_object()

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if self.object is not None:
            kwargs["instance"] = copy.copy(self.object)  # the form mutates it; the service diffs the original
        else:
            model = self.get_form_class()._meta.model  # type: ignore[attr-defined]  # a ModelForm
            kwargs["instance"] = model(organization=self.membership.organization)
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["title"] = f"Edit {self.noun} {self.object}" if self.object else f"New {self.noun}"
        context["cancel_url"] = reverse(self.success_url_name)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if self.object is not None and "version" in form.fields:
            data["expected_version"] = form.cleaned_data["version"]
        if self.object is not None and "reason" in form.fields:
            data["reason"] = form.cleaned_data["reason"]
        try:
            if self.object is None:
                saved = type(self).create_service(membership=self.membership, **data)
            else:
                saved = type(self).update_service(membership=self.membership, **{self.instance_kwarg: self.object},
                                                  **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        except StaleWrite as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=409)
        messages.success(self.request, f"Saved {self.noun} {saved}.")
        return redirect(self.success_url_name)


class SiteFormView(_ServiceFormView):
    selector = selectors.site_list
    form_class = SiteForm
    noun = "site"
    success_url_name = "sites"
    create_service = services.site_create
    update_service = services.site_update
    instance_kwarg = "site"


class ProductFormView(_ServiceFormView):
    selector = selectors.product_list
    form_class = ProductForm
    noun = "product"
    success_url_name = "products"
    create_service = services.product_create
    update_service = services.product_update
    instance_kwarg = "product"


class MemberFormView(_ServiceFormView):
    selector = selectors.member_list
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS
    form_class = MemberForm
    noun = "member"
    success_url_name = "members"
    instance_kwarg = "target"

    @staticmethod
    def update_service(*, membership: Any, target: Any, role: str, is_active: bool) -> Any:
        return services.membership_update(membership=membership, target=target, role=role, is_active=is_active)


class GrantListView(ScopedPageMixin, ListView):
    selector = selectors.grant_list
    template_name = "tenants/grant_list.html"
    context_object_name = "grants"
    paginate_by = 50


class GrantCreateView(ScopedPageMixin, FormView):
    selector = selectors.grant_list
    writes = True
    write_capability = Capability.GRANT_ACCESS
    template_name = "tenants/form.html"
    form_class = GrantForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["partnerships"] = selectors.grantable_partnerships(membership=self.membership)
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        now = timezone.now().replace(second=0, microsecond=0)
        return {"starts_at": now, "expires_at": now + timedelta(days=14)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Grant time-boxed access",
                "cancel_url": reverse("grants")}

    def form_valid(self, form: GrantForm) -> HttpResponse:
        try:
            grant = grants.grant_create(membership=self.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Granted: {grant}.")
        return redirect("grants")


class GrantRevokeView(ScopedPageMixin, FormView):
    selector = selectors.grant_list
    writes = True
    write_capability = Capability.GRANT_ACCESS
    template_name = "tenants/form.html"
    form_class = RevokeForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        grant = self.get_object()
        return {**super().get_context_data(**kwargs), "title": f"Revoke {grant}", "cancel_url": reverse("grants")}

    def form_valid(self, form: RevokeForm) -> HttpResponse:
        grant = self.get_object()
        try:
            grants.grant_revoke(membership=self.membership, grant=grant, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, f"Revoked: {grant}.")
        return redirect("grants")


class PartnershipFileUploadView(ScopedPageMixin, FormView):
    """Attach a document to a partnership (either party may; the file row belongs to the uploader)."""

    selector = selectors.partnership_list
    writes = False  # uploading to a partnership you can see is allowed to both parties; the service checks role
    template_name = "tenants/partnership_detail.html"
    form_class = UploadForm

    def form_valid(self, form: UploadForm) -> HttpResponse:
        partnership = self.get_object()
        try:
            stored = files.file_store(membership=self.membership, record=partnership, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Uploaded {stored.original_name} (SHA-256 {stored.sha256}).")
        return redirect("partnership-detail", pk=partnership.pk)

    def form_invalid(self, form: UploadForm) -> HttpResponse:
        partnership = self.get_object()
        context = {"partnership": partnership, "upload_form": form,
                   "files": files.files_of(membership=self.membership, record=partnership)}
        return render(self.request, self.template_name, context, status=400)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("partnership-detail", pk=self.get_object().pk)


class FileDownloadView(ScopedPageMixin, SingleObjectMixin, View):
    """Serve a stored file to someone who may see its record: always as an attachment, never sniffed."""

    selector = files.file_list
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return files.file_response(self.get_object())


class MemberAddView(ScopedPageMixin, FormView):
    selector = selectors.member_list
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS
    writes = True
    template_name = "tenants/form.html"
    form_class = MemberAddForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Add a member", "cancel_url": reverse("members")}

    def form_valid(self, form: MemberAddForm) -> HttpResponse:
        from tenants.api import set_password_link

        try:
            member, link = services.member_add(membership=self.membership, **form.cleaned_data,
                                               set_password_url=lambda user: set_password_link(self.request, user))
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        if link:
            messages.success(self.request, f"Added {member.user.email}. An invitation was e-mailed; the single-use "
                                           f"link to set the password is: {link}")
        else:
            messages.success(self.request, f"Added {member.user.email} (existing account).")
        return redirect("members")


def signing_context(membership: Any, partnership: Any, form: Any = None) -> dict[str, Any]:
    from part11.signatures import signatures_of
    from tenants.signing import PARTNERSHIP_RULES

    steps = [rule for rule in PARTNERSHIP_RULES if can(membership, rule.capability)]
    return {"signatures": list(signatures_of(partnership).select_related("signer")),
            "sign_form": form or SignForm(steps=steps), "can_sign": bool(steps)}


class PartnershipSignView(ScopedPageMixin, FormView):
    """Sign the partnership (review / approve) after re-entering the password: a Part 11 signature."""

    selector = selectors.partnership_list
    template_name = "tenants/partnership_detail.html"
    form_class = SignForm

    def get_form_kwargs(self) -> dict[str, Any]:
        from tenants.signing import PARTNERSHIP_RULES

        self.get_object()  # a partnership you cannot see is 404 before any question of role
        steps = [rule for rule in PARTNERSHIP_RULES if can(self.membership, rule.capability)]
        if not steps:
            raise PermissionDenied(f"Your role ({self.membership.get_role_display()}) signs nothing here.")
        return {**super().get_form_kwargs(), "steps": steps}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("partnership-detail", pk=self.get_object().pk)

    def form_valid(self, form: SignForm) -> HttpResponse:
        from part11 import signatures

        partnership = self.get_object()
        try:
            signature = signatures.sign(request=self.request, membership=self.membership, record=partnership,
                                        step=form.cleaned_data["step"], password=form.cleaned_data["password"],
                                        otp=form.cleaned_data.get("otp") or None)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"Signed: {signature}.")
        return redirect("partnership-detail", pk=partnership.pk)

    def form_invalid(self, form: SignForm) -> HttpResponse:
        partnership = self.get_object()
        context = {"partnership": partnership, "upload_form": UploadForm(),
                   "files": files.files_of(membership=self.membership, record=partnership),
                   **signing_context(self.membership, partnership, form)}
        return render(self.request, self.template_name, context, status=400)


class PartnershipPdfView(ScopedPageMixin, SingleObjectMixin, View):
    """The partnership as a PDF record (content, attachments, signatures, audit trail); the export is audited."""

    selector = selectors.partnership_list
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from part11.pdf import pdf_response

        return pdf_response(membership=self.membership, record=self.get_object(), request=request)
