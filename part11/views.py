"""Audit-trail pages: search with CSV export, and the history of one record as a timeline."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.generic import DetailView, ListView, View
from django.views.generic.list import MultipleObjectMixin

from part11 import export, selectors, signatures
from part11.filters import AuditEventFilter
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin


class AuditSearchView(ScopedPageMixin, ListView):
    selector = selectors.event_list
    read_capability = Capability.VIEW_AUDIT_TRAIL
    filterset_class = AuditEventFilter
    template_name = "part11/audit_search.html"
    context_object_name = "events"
    paginate_by = 100

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "filter": self.filterset, "query": self.request.GET.urlencode()}


class AuditExportView(ScopedPageMixin, MultipleObjectMixin, View):
    selector = selectors.event_list
    read_capability = Capability.VIEW_AUDIT_TRAIL
    filterset_class = AuditEventFilter

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return export.csv_response(self.get_queryset())


class RecordHistoryView(ScopedPageMixin, ListView):
    """A record's timeline: who, when (UTC), what changed from → to, why. 404 if nothing of it is visible."""

    selector = selectors.event_list
    read_capability = Capability.VIEW_AUDIT_TRAIL
    filterset_class = AuditEventFilter
    template_name = "part11/record_history.html"
    context_object_name = "events"

    def filter_data(self) -> dict[str, Any]:
        return {"record_type": self.kwargs["record_type"], "record_id": self.kwargs["record_id"],
                "ordering": "occurred_at"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not context["events"]:
            raise Http404("No such record, or it is not shared with your organization.")
        context["record_label"] = selectors.RECORD_TYPES.get(self.kwargs["record_type"], self.kwargs["record_type"])
        context["record_id"] = self.kwargs["record_id"]
        record = _signable_record(self.membership, self.kwargs["record_type"], self.kwargs["record_id"])
        if record is not None and can(self.membership, Capability.REVIEW_QUALITY_RECORDS):
            context["can_mark_reviewed"] = True
            context["reviewed"] = signatures.audit_trail_reviewed(membership=self.membership, record=record)
        return context


def _signable_record(membership: Any, record_type: str, record_id: int) -> Any:
    signable = signatures.REGISTRY.get(record_type)
    if signable is None:
        return None
    return signable.selector(membership=membership).filter(pk=record_id).first()


class AuditReviewView(ScopedPageMixin, View):
    """POST: "I reviewed this record's audit trail up to its latest change" (needed before approving)."""

    selector = selectors.event_list
    read_capability = Capability.REVIEW_QUALITY_RECORDS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        record = _signable_record(self.membership, kwargs["record_type"], kwargs["record_id"])
        if record is None:
            raise Http404("No such record, or it is not shared with your organization.")
        review = signatures.mark_audit_trail_reviewed(membership=self.membership, record=record)
        messages.success(request, f"Audit trail marked reviewed through event {review.reviewed_through_event}.")
        return redirect("record-history", record_type=kwargs["record_type"], record_id=kwargs["record_id"])


class SignatureVerifyView(ScopedPageMixin, DetailView):
    """Recompute the record's canonical hash and say whether it still matches what was signed."""

    selector = selectors.signature_list
    template_name = "part11/signature_verify.html"
    context_object_name = "signature"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        signature = self.object
        signable = signatures.signable_for(signature.record_table)
        record = signable.selector(membership=self.membership).filter(pk=signature.record_id).first()
        if record is None:
            raise Http404("No such record, or it is not shared with your organization.")
        context["verification"] = signatures.verify(signature, record)
        context["record"] = record
        return context
