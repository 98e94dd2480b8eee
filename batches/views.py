"""Pages for batches. Thin: ``batches.selectors`` to read, ``batches.services`` to write (the API uses the same),
``qms.pages`` for the one-object forms and buttons.

The CMO owns the batch and its record, so its pages are ordinary owner writes. The sponsor writes only its own rows
that point at the batch (its signed disposition, its queries): those pages are partner actions (``writes = False``
with an explicit check that the member is a party), like the sponsor's acknowledgement of a deviation notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from batches import selectors, services
from batches.documents import document_response
from batches.export import csv_response
from batches.filters import BatchFilter
from batches.forms import (
    BatchForm,
    ChangeRows,
    CloseQueryForm,
    DeliveryForm,
    DisposeForm,
    DocumentForm,
    EditForm,
    ImportForm,
    QueryForm,
    ReplyForm,
    ResultRows,
)
from batches.imports import COLUMNS, REQUIRED, ImportRefused, batches_import, rows_from_csv
from batches.models import Batch, Disposition, Document, Query
from batches.pdf import batch_pdf_response
from batches.signing import SIGNABLE
from clocks.models import STAGE_LABELS
from part11.models import Signature
from qms.errors import StaleWrite
from qms.forms import ReasonForm
from qms.pages import ObjectButton, ObjectForm, add_service_errors
from tenants.models import Membership, Organization, Product, Site
from tenants.permissions import Capability, can
from tenants.scoping import PARTNER_READ_ONLY, ScopedPageMixin
from tenants.selectors import organization_list, product_list, site_list

State = Batch.State
SEVERITY_ORDER = {"blocker": 0, "attention": 1, "info": 2}
CMO_ONLY = "Batches are registered by the CMO that makes them; a sponsor reviews them."
#: What each choice is called on the decision form (the step it signs depends on the party and release model).
CHOICE_LABELS = {"release": "Release", "conditional": "Conditional release (with justification)",
                 "reject": "Reject"}
#: The "release" choice where the release model makes it another step.
RELEASE_LABELS: dict[str, str] = {Disposition.Step.QP_CERTIFY: "Certify (QP)",
                                  Disposition.Step.CMO_SUBMIT: "Reviewed: send to the sponsor for release"}


def _back(batch: Batch) -> str:
    return reverse("batch-detail", args=[batch.pk])


def _own_sites(membership: Membership) -> list[tuple[int, str]]:
    return list(Site.objects.filter(organization_id=membership.organization_id, is_active=True).order_by("name")
                .values_list("pk", "name"))


def _made_products(membership: Membership) -> list[Product]:
    """What the CMO makes for its sponsors: the products its partnerships name (one sponsor each)."""
    return list(Product.objects.filter(partnerships__cmo_id=membership.organization_id)
                .select_related("organization").distinct().order_by("code"))


def _require_cmo(membership: Membership) -> None:
    if not membership.organization.is_cmo:
        raise PermissionDenied(CMO_ONLY)


def _filter_options(membership: Membership) -> dict[str, Any]:
    """The choices of the filter form, each as the reader may see them (a few constant queries)."""
    is_cmo = membership.organization.is_cmo
    partners = organization_list(membership=membership).exclude(pk=membership.organization_id).order_by("name")
    partner_kind = Organization.Kind.SPONSOR if is_cmo else Organization.Kind.CMO
    return {
        "is_cmo": is_cmo,
        "products": list(product_list(membership=membership).order_by("code").values_list("pk", "code")),
        "sites": list(site_list(membership=membership).order_by("name").values_list("pk", "name")),
        "partners": list(partners.filter(kind=partner_kind).values_list("pk", "name")),
    }


class BatchListView(ScopedPageMixin, ListView):
    """The CMO's batch pipeline by status; the sponsor's list of its batches."""

    selector = selectors.batch_list
    filterset_class = BatchFilter
    template_name = "batches/batch_list.html"
    context_object_name = "batches"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        member = self.membership
        counts = selectors.counts_by_state(selectors.batch_list(membership=member))
        options = _filter_options(member)
        context.update(
            options, filter=self.filterset, query=self.request.GET.urlencode(), now=timezone.now(),
            status_counts=[(value, label, counts.get(value, 0)) for value, label in State.choices],
            can_register=options["is_cmo"] and can(member, Capability.RECORD_OPERATIONS),
        )
        return context


class BatchQueueView(ScopedPageMixin, ListView):
    """What waits for the acting quality unit, oldest first: the sponsor's batches awaiting its disposition, the
    CMO's batches in its own QA review; with their age and the review clock's colour."""

    selector = selectors.review_queue
    filterset_class = BatchFilter
    template_name = "batches/batch_queue.html"
    context_object_name = "batches"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        options = _filter_options(self.membership)
        now = timezone.now()
        rows = []
        for batch in context["batches"]:
            since = batch.waiting_since
            stage = batch.review_deadline.stage_at(now) if batch.review_deadline else ""
            rows.append((batch, (now - since).days if since else None, stage, STAGE_LABELS.get(stage, "")))
        context.update(options, filter=self.filterset, rows=rows, query=self.request.GET.urlencode())
        return context


class BatchExportView(ScopedPageMixin, View):
    """The filtered list as CSV, built from the same annotated selector as the list."""

    selector = selectors.batch_list
    filterset_class = BatchFilter
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return csv_response(self.get_queryset())


class BatchCreateView(ScopedPageMixin, FormView):
    selector = selectors.batch_list
    writes = True
    write_capability = Capability.RECORD_OPERATIONS
    form_class = BatchForm
    template_name = "tenants/form.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        products = [(p.pk, f"{p.code} {p.name} ({p.organization.name})") for p in _made_products(self.membership)]
        return {**super().get_form_kwargs(), "sites": _own_sites(self.membership), "products": products}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": "Register a batch", "cancel_url": reverse("batches")}

    def form_valid(self, form: BatchForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        org = self.membership.organization_id
        product = next((p for p in _made_products(self.membership) if p.pk == data.pop("product")), None)
        site = Site.objects.filter(pk=data.pop("site"), organization_id=org).first()
        try:
            if product is None:
                raise ValidationError({"product": "Choose a product your organization makes for a sponsor."})
            if site is None:
                raise ValidationError({"site": "Choose one of your organization's sites."})
            batch = services.batch_create(membership=self.membership, product=product, site=site, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{batch} registered.")
        return redirect(_back(batch))

    def form_invalid(self, form: BatchForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BatchImportView(ScopedPageMixin, FormView):
    """Bulk registration from a CSV: every row or none, with a row-by-row error report."""

    selector = selectors.batch_list
    writes = True
    write_capability = Capability.RECORD_OPERATIONS
    form_class = ImportForm
    template_name = "batches/import.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_cmo(self.membership)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        products = _made_products(self.membership)
        sites = _own_sites(self.membership)
        example = {"product": products[0].code if products else "PRD-1", "lot_number": "L2401",
                   "site": sites[0][1] if sites else "Site name",
                   "manufactured_on": (today - dt.timedelta(days=14)).isoformat(),
                   "completed_on": (today - dt.timedelta(days=12)).isoformat(),
                   "expiry_date": (today + dt.timedelta(days=730)).isoformat(), "quantity": "250000",
                   "unit": "tablets", "planned_delivery_date": (today + dt.timedelta(days=14)).isoformat()}
        return {**super().get_context_data(**kwargs), "columns": COLUMNS, "required": REQUIRED,
                "header": ",".join(COLUMNS), "example": ",".join(example[c] for c in COLUMNS),
                "products": products, "sites": sites}

    def form_valid(self, form: ImportForm) -> HttpResponse:
        try:
            rows = rows_from_csv(form.cleaned_data["file"].read())
            created = batches_import(membership=self.membership, rows=rows)
        except ImportRefused as exc:
            errors = [(error.row, name, message) for error in exc.rows
                      for name, texts in error.fields.items() for message in texts]
            form.add_error(None, exc.messages)
            return self.render_to_response(self.get_context_data(form=form, row_errors=errors), status=400)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{len(created)} batch{'es' if len(created) != 1 else ''} registered.")
        return redirect("batches")

    def form_invalid(self, form: ImportForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- The review page ---------------------------------------------------------------------------------------------


def _decide_step(batch: Batch, membership: Membership) -> tuple[str, str] | None:
    """The step the member's organization would sign now (its turn, its role allows it), or None."""
    try:
        step, _decision = services.next_step(batch, membership.organization_id, "release")
    except (ValidationError, PermissionDenied):
        return None
    rule = SIGNABLE.rule(step)
    return (step, rule.label) if can(membership, rule.capability) else None


class BatchDetailView(ScopedPageMixin, DetailView):
    """The review page: facts, the review-by-exception summary, the executed batch record shown inline, documents,
    CoA and QC results, changes, linked deviations (as the reader may see them), the signed chain, the queries and
    the actions of the member's own party."""

    selector = selectors.batch_list
    template_name = "batches/batch_detail.html"
    context_object_name = "batch"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch: Batch = self.object
        member = self.membership
        org = member.organization_id
        owner, sponsor = batch.organization_id == org, batch.sponsor_id == org
        documents = list(selectors.documents_of(membership=member, batch=batch))
        current = {d.kind: d for d in documents if not d.superseded and d.kind != Document.Kind.OTHER}
        dispositions = list(selectors.dispositions_of(membership=member, batch=batch))
        signed: dict[int, list[Signature]] = {}
        for sig in Signature.objects.filter(record_table=Disposition._meta.db_table,
                                            record_id__in=[d.pk for d in dispositions]).order_by("signed_at", "id"):
            signed.setdefault(sig.record_id, []).append(sig)
        author = can(member, Capability.AUTHOR_QUALITY_RECORDS)
        editable = owner and batch.record_editable
        # Each thread's forms get their own ids, so every label on the page names exactly one field.
        queries = [(q, list(selectors.messages_of(membership=member, query=q)),
                    ReplyForm(auto_id=f"id_reply{q.pk}_%s"), CloseQueryForm(auto_id=f"id_close{q.pk}_%s"))
                   for q in selectors.queries_of(membership=member, batch=batch)]
        exceptions = sorted(selectors.exceptions_of(membership=member, batch=batch),
                            key=lambda e: SEVERITY_ORDER.get(e.severity, 9))
        return {
            **super().get_context_data(**kwargs), "owner": owner, "is_sponsor": sponsor,
            "exceptions": exceptions, "blockers": sum(1 for e in exceptions if e.severity == "blocker"),
            "documents": documents, "ebr": current.get(Document.Kind.EXECUTED_BATCH_RECORD),
            "coa": current.get(Document.Kind.CERTIFICATE_OF_ANALYSIS),
            "results": list(selectors.qc_results_of(membership=member, batch=batch)),
            "changes": list(selectors.changes_of(membership=member, batch=batch)),
            "deviations": list(selectors.linked_deviations(membership=member, batch=batch)),
            "dispositions": [(d, signed.get(d.pk, [])) for d in dispositions],
            "queries": queries,
            "can_edit": editable and can(member, Capability.RECORD_OPERATIONS if batch.state == State.IN_PRODUCTION
                                         else Capability.AUTHOR_QUALITY_RECORDS),
            "can_results": editable and can(member, Capability.RECORD_OPERATIONS),
            "can_author_record": editable and author,
            "can_submit": owner and batch.state == State.IN_PRODUCTION and can(member, Capability.RECORD_OPERATIONS),
            "can_return": owner and batch.state == State.CMO_REVIEW
            and can(member, Capability.APPROVE_QUALITY_RECORDS),
            "decide": _decide_step(batch, member) if owner or sponsor else None,
            "can_deliver": owner and batch.state in (State.RELEASED, State.CONDITIONALLY_RELEASED)
            and can(member, Capability.RECORD_OPERATIONS),
            "can_query": sponsor and author and not batch.is_disposed,
            "can_reply": (owner or sponsor) and author,
            "can_close": sponsor and author,
            "query_form": QueryForm(auto_id="id_query_%s"), "stage_labels": STAGE_LABELS,
        }


class BatchEditView(ObjectForm):
    selector = selectors.batch_list
    write_capability = Capability.RECORD_OPERATIONS
    form_class = EditForm
    title = "Edit"
    back = staticmethod(_back)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": _own_sites(self.membership)}

    def get_initial(self) -> dict[str, Any]:
        b = self.target()
        return {"lot_number": b.lot_number, "site": b.site_id, "manufactured_on": b.manufactured_on,
                "completed_on": b.completed_on, "expiry_date": b.expiry_date, "quantity": b.quantity,
                "unit": b.unit, "planned_delivery_date": b.planned_delivery_date, "version": b.version}

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        data = dict(data)
        version = data.pop("version")
        data["site"] = Site.objects.filter(pk=data["site"], organization_id=self.membership.organization_id).first()
        if data["site"] is None:
            raise ValidationError({"site": "Choose one of your organization's sites."})
        services.batch_update(membership=self.membership, batch=batch, expected_version=version, **data)
        return "Saved."


class _RowsView(ScopedPageMixin, SingleObjectMixin, View):
    """An editable table of the batch record's rows (QC results, changes in effect): the existing rows and a few
    blank ones; a row left blank is dropped, so clearing a row removes it."""

    selector = selectors.batch_list
    writes = True
    template_name = "batches/rows_form.html"
    http_method_names = ["get", "post"]
    formset_class: Any
    field: str  # the service's error prefix ("results", "changes")
    title: str
    #: The current rows as the formset's initial data.
    rows: Callable[[Batch], list[dict[str, Any]]]
    #: Write the kept rows through the service; return the success message.
    save: Callable[[Batch, list[Any], int], str]

    def page(self, batch: Batch, formset: Any, status: int = 200, error: str = "") -> HttpResponse:
        return render(self.request, self.template_name, {
            "batch": batch, "formset": formset, "title": f"{self.title}: {batch}", "error": error,
            "version": batch.version, "cancel_url": _back(batch)}, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        batch = self.get_object()
        return self.page(batch, self.formset_class(initial=self.rows(batch)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        batch = self.get_object()
        formset = self.formset_class(request.POST)
        if not formset.is_valid():
            return self.page(batch, formset, 400)
        kept = [form for form in formset.forms if form.cleaned_data and not form.is_blank()]
        try:
            version = int(request.POST.get("version") or batch.version)
            message = self.save(batch, [form.line() for form in kept], version)
        except StaleWrite as exc:
            return self.page(batch, formset, 409, str(exc))
        except ValidationError as exc:
            top = []
            for key, errors in exc.message_dict.items():
                parts = key.split(".")
                if len(parts) == 3 and parts[0] == self.field and parts[1].isdigit() and int(parts[1]) < len(kept):
                    form = kept[int(parts[1])]
                    form.add_error(parts[2] if parts[2] in form.fields else None, errors)
                else:
                    top += errors
            return self.page(batch, formset, 400, " ".join(top))
        messages.success(request, message)
        return redirect(_back(batch))


class ResultsView(_RowsView):
    write_capability = Capability.RECORD_OPERATIONS
    formset_class = ResultRows
    field = "results"
    title = "QC results"

    def rows(self, batch: Batch) -> list[dict[str, Any]]:
        return [{"test": r.test, "specification": r.specification, "result": r.result, "passed": r.passed,
                 "oos": r.oos} for r in selectors.qc_results_of(membership=self.membership, batch=batch)]

    def save(self, batch: Batch, lines: list[Any], version: int) -> str:
        services.qc_results_set(membership=self.membership, batch=batch, results=lines, expected_version=version)
        return f"QC results saved ({len(lines)} test{'s' if len(lines) != 1 else ''})."


class ChangesView(_RowsView):
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    formset_class = ChangeRows
    field = "changes"
    title = "Changes in effect"

    def rows(self, batch: Batch) -> list[dict[str, Any]]:
        return [{"reference": c.reference, "title": c.title}
                for c in selectors.changes_of(membership=self.membership, batch=batch)]

    def save(self, batch: Batch, lines: list[Any], version: int) -> str:
        services.changes_set(membership=self.membership, batch=batch, changes=lines, expected_version=version)
        return f"Changes in effect saved ({len(lines)})."


class DocumentUploadView(ObjectForm):
    """Attach a document to the batch record; its SHA-256 is shown to both parties."""

    selector = selectors.batch_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = DocumentForm
    title = "Upload a document"
    back = staticmethod(_back)

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        document = services.document_add(membership=self.membership, batch=batch, kind=data["kind"],
                                         upload=data["file"], title=data["title"])
        return f"Uploaded {document.file.original_name} (SHA-256 {document.file.sha256})."


class SubmitView(ObjectButton):
    selector = selectors.batch_list
    write_capability = Capability.RECORD_OPERATIONS
    back = staticmethod(_back)

    def act(self, batch: Batch) -> str:
        services.batch_submit(membership=self.membership, batch=batch)
        return f"{batch} submitted for QA review."


class ReturnView(ObjectForm):
    selector = selectors.batch_list
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    title = "Return to production"
    back = staticmethod(_back)

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        services.batch_return(membership=self.membership, batch=batch, reason=data["reason"])
        return f"{batch} returned to production."


class DeliveryView(ObjectForm):
    selector = selectors.batch_list
    write_capability = Capability.RECORD_OPERATIONS
    form_class = DeliveryForm
    title = "Record the delivery"
    back = staticmethod(_back)

    def get_initial(self) -> dict[str, Any]:
        batch = self.target()
        return {"actual_delivery_date": batch.actual_delivery_date or timezone.localdate(), "version": batch.version}

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        services.batch_record_delivery(membership=self.membership, batch=batch,
                                       actual_delivery_date=data["actual_delivery_date"],
                                       expected_version=data["version"])
        return f"Delivery of {batch} recorded."


class DisposeView(ObjectForm):
    """The acting party's signed decision on the batch: the CMO's QA (release, conditional release, rejection, or
    review-and-send under sponsor-only release) or the sponsor's (release or QP certification, conditional release,
    rejection). The sponsor does not own the batch: its disposition is its own row, so this is a partner action.

    A refused signature answers 400 from ``act``'s ValidationError without raising out of the view, so the request
    commits and the failed attempt stays recorded (it counts toward lockout)."""

    selector = selectors.batch_list
    writes = False
    read_capability = Capability.REVIEW_QUALITY_RECORDS
    form_class = DisposeForm
    template_name = "batches/dispose.html"
    title = "Decide"
    back = staticmethod(_back)
    _steps: list[dict[str, Any]]

    def target(self) -> Any:
        batch = super().target()
        if self.membership.organization_id not in (batch.organization_id, batch.sponsor_id):
            raise PermissionDenied(PARTNER_READ_ONLY)
        return batch

    def steps(self, batch: Batch) -> list[dict[str, Any]]:
        """What each choice would sign now: its step, meaning and (for a release) what blocks it."""
        if hasattr(self, "_steps"):
            return self._steps
        found: list[dict[str, Any]] = []
        for choice in services.CHOICES:
            try:
                step, decision = services.next_step(batch, self.membership.organization_id, choice)
            except ValidationError:
                continue
            rule = SIGNABLE.rule(step)
            blockers = list(services.release_blockers(self.membership, batch, decision).values())
            if rule.not_by is not None and batch.submitted_by_id == self.membership.user_id:
                blockers.insert(0, rule.not_by_reason)  # production ≠ quality unit
            label = RELEASE_LABELS.get(step, CHOICE_LABELS[choice]) if choice == "release" else CHOICE_LABELS[choice]
            found.append({"choice": choice, "label": label, "step": Disposition.Step(step).label,
                          "rule": rule.label, "meaning": rule.meaning, "decision": Disposition.Decision(decision).label,
                          "blockers": blockers, "allowed": can(self.membership, rule.capability)})
        self._steps = found
        return found

    def get_form_kwargs(self) -> dict[str, Any]:
        labels = {s["choice"]: s["label"] for s in self.steps(self.target())} or CHOICE_LABELS
        return {**super().get_form_kwargs(), "labels": labels}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = self.target()
        steps = self.steps(batch)
        not_now = ""
        if not steps:
            try:
                services.next_step(batch, self.membership.organization_id, "release")
            except ValidationError as exc:
                not_now = " ".join(exc.messages)
        return {**super().get_context_data(**kwargs), "batch": batch, "steps": steps, "not_now": not_now,
                "exceptions": sorted(selectors.exceptions_of(membership=self.membership, batch=batch),
                                     key=lambda e: SEVERITY_ORDER.get(e.severity, 9))}

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        signature = services.batch_dispose(
            request=self.request, membership=self.membership, batch=batch, choice=data["decision"],
            password=data["password"], otp=data.get("otp"), justification=data["justification"],
            reason=data["reason"])
        batch.refresh_from_db(fields=["state"])
        return (f"Signed by {signature.printed_name} — {signature.get_meaning_display()}. "
                f"{batch} is {batch.get_state_display().lower()}.")


class PdfView(ScopedPageMixin, SingleObjectMixin, View):
    """The batch dossier PDF (data, exceptions, signed dispositions, audit trail)."""

    selector = selectors.batch_list
    read_capability = Capability.EXPORT
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return batch_pdf_response(request, self.membership, self.get_object())


class DocumentView(ScopedPageMixin, SingleObjectMixin, View):
    """A document of the batch record: shown inline (a PDF, framed by the review page only) or, with
    ``?download=1``, as an attachment. Found through the document selector: 404 for anyone who cannot see the
    batch. ``document_response`` sets its own Content-Security-Policy and X-Frame-Options; the CSP and clickjacking
    middlewares leave headers a response already has alone."""

    selector = selectors.document_list
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return document_response(self.get_object(), inline=not request.GET.get("download"))


# --- Queries -----------------------------------------------------------------------------------------------------


def _query_back(query: Query) -> str:
    return f"{_back(query.batch)}#query-{query.pk}"


class QueryCreateView(ObjectForm):
    """The sponsor asks the CMO about the batch: a row of its own pointing at the CMO's batch (a partner action)."""

    selector = selectors.batch_list
    writes = False
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = QueryForm
    title = "Raise a query"
    back = staticmethod(_back)

    def target(self) -> Any:
        batch = super().target()
        if batch.sponsor_id != self.membership.organization_id:
            raise PermissionDenied("Queries are raised by the batch's sponsor; the CMO answers them.")
        return batch

    def act(self, batch: Batch, data: dict[str, Any]) -> str:
        query = services.query_raise(membership=self.membership, batch=batch, subject=data["subject"],
                                     body=data["body"])
        return f"Query “{query.subject}” sent to {batch.organization.name}."


class QueryReplyView(ObjectForm):
    """A message in the thread, from either party (each writes its own message row)."""

    selector = selectors.query_list
    writes = False
    read_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = ReplyForm
    title = "Reply"
    back = staticmethod(_query_back)

    def target(self) -> Any:
        query = super().target()
        if self.membership.organization_id not in (query.organization_id, query.cmo_id):
            raise PermissionDenied(PARTNER_READ_ONLY)
        return query

    def act(self, query: Query, data: dict[str, Any]) -> str:
        services.query_reply(membership=self.membership, query=query, body=data["body"])
        return "Reply sent."


class QueryCloseView(ObjectForm):
    """The sponsor closes its own query (the query is the sponsor's row: an ordinary owner write)."""

    selector = selectors.query_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    form_class = CloseQueryForm
    title = "Close the query"
    back = staticmethod(_query_back)

    def act(self, query: Query, data: dict[str, Any]) -> str:
        services.query_close(membership=self.membership, query=query, note=data["note"])
        return f"Query “{query.subject}” closed."

