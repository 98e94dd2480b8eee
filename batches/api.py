"""REST API for batch records, their documents, the sponsor's queries and the signed dispositions.

Thin: reads through ``batches.selectors`` (via ``ScopedViewSet``), writes through ``batches.services``; the pages in
``batches.views`` use the same. The CMO owns the batch and its record; the sponsor reads it and writes only its own
rows that point at it: its disposition (a partner action on the batch) and its queries. Edits of the batch need the
version read (If-Match or ``version``), so two people saving at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from batches import selectors, services
from batches.documents import document_response
from batches.export import csv_response
from batches.filters import BatchFilter
from batches.imports import ImportRefused, batches_import, rows_from_csv
from batches.models import Batch, ChangeInEffect, Disposition, Document, QcResult, Query, QueryMessage
from batches.pdf import batch_pdf_response
from part11.api import SignatureSerializer, SignSerializer
from part11.signatures import signatures_of
from qms.versioning import expected_version_from
from tenants.api import ReasonSerializer
from tenants.models import Product, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedRecordViewSet, ScopedViewSet
from tenants.selectors import product_list

# --- Serializers ----------------------------------------------------------------------------------------------


class BatchSerializer(serializers.ModelSerializer):
    """A batch as every list shows it, with its review-by-exception flags (annotations of ``batch_list``)."""

    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    cmo_name = serializers.CharField(source="organization.name", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    review_due_at = serializers.DateTimeField(source="review_deadline.due_at", read_only=True, default=None)
    deviation_count = serializers.IntegerField(read_only=True)
    open_deviation_count = serializers.IntegerField(read_only=True)
    flagged_result_count = serializers.IntegerField(read_only=True, help_text="Failed or OOS results")
    change_count = serializers.IntegerField(read_only=True)
    has_ebr = serializers.BooleanField(read_only=True, help_text="A current executed batch record is attached")
    has_coa = serializers.BooleanField(read_only=True, help_text="A current certificate of analysis is attached")
    open_query_count = serializers.IntegerField(read_only=True)
    has_exceptions = serializers.BooleanField(read_only=True)

    class Meta:
        model = Batch
        fields = ["id", "organization", "cmo_name", "sponsor", "sponsor_name", "partnership", "product",
                  "product_code", "product_name", "site", "site_name", "lot_number", "manufactured_on",
                  "completed_on", "expiry_date", "quantity", "unit", "planned_delivery_date", "actual_delivery_date",
                  "release_model", "state", "submitted_at", "sent_to_sponsor_at", "disposed_at", "review_due_at",
                  "deviation_count", "open_deviation_count", "flagged_result_count", "change_count", "has_ebr",
                  "has_coa", "open_query_count", "has_exceptions", "version"]
        read_only_fields = fields


class BatchQueueSerializer(BatchSerializer):
    """A batch in a review queue: since when it waits for the reader's quality unit, and for how long."""

    waiting_since = serializers.SerializerMethodField()
    age_days = serializers.SerializerMethodField()

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "waiting_since", "age_days"]
        read_only_fields = fields

    def get_waiting_since(self, batch: Batch) -> dt.datetime | None:
        return batch.waiting_since

    def get_age_days(self, batch: Batch) -> int | None:
        since = self.get_waiting_since(batch)
        return None if since is None else (timezone.now() - since).days


class BatchExceptionSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="deviation_open, deviation_closed, result, change, missing_document, "
                                           "query")
    severity = serializers.CharField(help_text="blocker (stops a release), attention, info")
    text = serializers.CharField()


class BatchDocumentSerializer(serializers.ModelSerializer):
    """A file of the batch record with its SHA-256; ``url`` serves it (inline; ``?download=1`` to download)."""

    lot_number = serializers.CharField(source="batch.lot_number", read_only=True)
    product_code = serializers.CharField(source="batch.product.code", read_only=True)
    original_name = serializers.CharField(source="file.original_name", read_only=True)
    sha256 = serializers.CharField(source="file.sha256", read_only=True)
    size = serializers.IntegerField(source="file.size", read_only=True)
    mime = serializers.CharField(source="file.mime_type", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.printed_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "batch", "lot_number", "product_code", "kind", "title", "superseded", "original_name",
                  "sha256", "size", "mime", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, document: Document) -> str:
        return reverse("api:batch-document-content", args=[document.pk])


class QcResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = QcResult
        fields = ["test", "specification", "result", "passed", "oos"]


class ChangeInEffectSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeInEffect
        fields = ["reference", "title"]


class LinkedDeviationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()


class DispositionSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="batch.lot_number", read_only=True)
    product_code = serializers.CharField(source="batch.product.code", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    decided_by = serializers.CharField(source="decided_by.printed_name", read_only=True)
    open_deviations = serializers.ListField(child=serializers.CharField(), read_only=True,
                                            help_text="Linked deviations open when it was signed")

    class Meta:
        model = Disposition
        fields = ["id", "batch", "lot_number", "product_code", "organization", "organization_name", "step",
                  "decision", "justification", "reason", "open_deviations", "decided_by", "decided_at"]
        read_only_fields = fields


class DispositionDetailSerializer(DispositionSerializer):
    """A disposition with its signature(s) manifested: printed name, meaning, date and time."""

    signatures = serializers.SerializerMethodField()

    class Meta(DispositionSerializer.Meta):
        fields = [*DispositionSerializer.Meta.fields, "signatures"]
        read_only_fields = fields

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, disposition: Disposition) -> Any:
        return SignatureSerializer(signatures_of(disposition), many=True).data


class QueryMessageSerializer(serializers.ModelSerializer):
    party = serializers.SerializerMethodField(help_text="sponsor or cmo")

    class Meta:
        model = QueryMessage
        fields = ["id", "organization", "party", "author_name", "body", "created_at"]
        read_only_fields = fields

    def get_party(self, message: QueryMessage) -> str:
        return "sponsor" if message.organization_id == message.sponsor_id else "cmo"


class BatchQuerySerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="batch.lot_number", read_only=True)
    product_code = serializers.CharField(source="batch.product.code", read_only=True)
    sponsor_name = serializers.CharField(source="organization.name", read_only=True)
    cmo_name = serializers.CharField(source="cmo.name", read_only=True)
    raised_by = serializers.CharField(source="raised_by.printed_name", read_only=True)
    awaiting_cmo = serializers.BooleanField(read_only=True, help_text="Open, and the sponsor wrote last")
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Query
        fields = ["id", "batch", "lot_number", "product_code", "organization", "sponsor_name", "cmo", "cmo_name",
                  "subject", "state", "raised_by", "raised_at", "closed_at", "close_note", "awaiting_cmo",
                  "message_count"]
        read_only_fields = fields


class BatchQueryDetailSerializer(BatchQuerySerializer):
    messages = serializers.SerializerMethodField()

    class Meta(BatchQuerySerializer.Meta):
        fields = [*BatchQuerySerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(QueryMessageSerializer(many=True))
    def get_messages(self, query: Query) -> Any:
        return QueryMessageSerializer(selectors.messages_of(membership=self.context["membership"], query=query),
                                      many=True).data


class BatchDetailSerializer(BatchSerializer):
    """One batch as the reader may see it: its record, the exception summary, the linked deviations the reader sees
    (a sponsor: those on its own product lines), the signed dispositions and the query threads."""

    submitted_by = serializers.CharField(source="submitted_by.printed_name", read_only=True, default=None)
    exceptions = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    qc_results = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    deviations = serializers.SerializerMethodField()
    dispositions = serializers.SerializerMethodField()
    queries = serializers.SerializerMethodField()

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "submitted_by", "return_reason", "created_at", "exceptions",
                  "documents", "qc_results", "changes", "deviations", "dispositions", "queries"]
        read_only_fields = fields

    def _member(self) -> Any:
        return self.context["membership"]

    @extend_schema_field(BatchExceptionSerializer(many=True))
    def get_exceptions(self, batch: Batch) -> Any:
        return BatchExceptionSerializer(selectors.exceptions_of(membership=self._member(), batch=batch),
                                        many=True).data

    @extend_schema_field(BatchDocumentSerializer(many=True))
    def get_documents(self, batch: Batch) -> Any:
        return BatchDocumentSerializer(selectors.documents_of(membership=self._member(), batch=batch),
                                       many=True).data

    @extend_schema_field(QcResultSerializer(many=True))
    def get_qc_results(self, batch: Batch) -> Any:
        return QcResultSerializer(selectors.qc_results_of(membership=self._member(), batch=batch), many=True).data

    @extend_schema_field(ChangeInEffectSerializer(many=True))
    def get_changes(self, batch: Batch) -> Any:
        return ChangeInEffectSerializer(selectors.changes_of(membership=self._member(), batch=batch), many=True).data

    @extend_schema_field(LinkedDeviationSerializer(many=True))
    def get_deviations(self, batch: Batch) -> Any:
        return LinkedDeviationSerializer(selectors.linked_deviations(membership=self._member(), batch=batch)
                                         .order_by("number"), many=True).data

    @extend_schema_field(DispositionDetailSerializer(many=True))
    def get_dispositions(self, batch: Batch) -> Any:
        return DispositionDetailSerializer(selectors.dispositions_of(membership=self._member(), batch=batch),
                                           many=True).data

    @extend_schema_field(BatchQueryDetailSerializer(many=True))
    def get_queries(self, batch: Batch) -> Any:
        return BatchQueryDetailSerializer(selectors.queries_of(membership=self._member(), batch=batch), many=True,
                                          context=self.context).data


class BatchCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="A product your organization makes for a sponsor")
    site = serializers.IntegerField(help_text="One of your sites in the partnership")
    lot_number = serializers.CharField(max_length=50)
    manufactured_on = serializers.DateField()
    completed_on = serializers.DateField(required=False, allow_null=True)
    expiry_date = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField(max_length=20)
    planned_delivery_date = serializers.DateField(required=False, allow_null=True)


class BatchUpdateSerializer(serializers.Serializer):
    site = serializers.IntegerField(required=False)
    lot_number = serializers.CharField(max_length=50, required=False)
    manufactured_on = serializers.DateField(required=False)
    completed_on = serializers.DateField(required=False, allow_null=True)
    expiry_date = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False)
    unit = serializers.CharField(max_length=20, required=False)
    planned_delivery_date = serializers.DateField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, help_text="The version read (or send If-Match)")


DISPOSE_CHOICES = [("release", "Release (or certify, under QP certification; send, under sponsor-only release)"),
                   ("conditional", "Conditional release, with a justification"), ("reject", "Reject, with a reason")]


class DisposeSerializer(SignSerializer):
    """The acting party's signed step of the release chain; the step and its meaning follow from the release model
    and whose turn it is."""

    decision = serializers.ChoiceField(choices=DISPOSE_CHOICES)
    justification = serializers.CharField(required=False, allow_blank=True, default="",
                                          help_text="Why a conditional release is acceptable")
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Why the batch is rejected")


class DeliverySerializer(serializers.Serializer):
    actual_delivery_date = serializers.DateField()
    version = serializers.IntegerField(required=False)


class QcLineSerializer(serializers.Serializer):
    test = serializers.CharField(max_length=200)
    specification = serializers.CharField(max_length=200)
    result = serializers.CharField(max_length=200)
    passed = serializers.BooleanField(default=True)
    oos = serializers.BooleanField(default=False, help_text="An out-of-specification result was investigated")


class ResultsSerializer(serializers.Serializer):
    results = QcLineSerializer(many=True)
    version = serializers.IntegerField(required=False)


class ChangeLineSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=200)


class ChangesSerializer(serializers.Serializer):
    changes = ChangeLineSerializer(many=True)
    version = serializers.IntegerField(required=False)


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text="A PDF for the executed batch record and the certificate of analysis")


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) with the header: product, lot_number, site, "
                                           "manufactured_on, completed_on, expiry_date, quantity, unit, "
                                           "planned_delivery_date")


class ImportRowSerializer(serializers.Serializer):
    """One batch to register; every value is checked by the import (``batches.imports``), row by row."""

    product = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Product code")
    lot_number = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    site = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Site name")
    manufactured_on = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                            help_text="YYYY-MM-DD")
    completed_on = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    expiry_date = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    quantity = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    unit = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    planned_delivery_date = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ImportRowsSerializer(serializers.Serializer):
    rows = ImportRowSerializer(many=True)


def _field_errors() -> serializers.DictField:
    return serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# An import with any invalid row (400, nothing registered). Schema-only shapes whose key is named "fields" (the error
# shape's): built inline, since a declared field called "fields" would shadow Serializer.fields.
ImportRefusalSerializer = inline_serializer("ImportRefusal", fields={"error": inline_serializer(
    "ImportRefusalDetail", fields={
        "code": serializers.CharField(), "message": serializers.CharField(), "fields": _field_errors(),
        "rows": inline_serializer("ImportRowError", many=True, fields={
            "row": serializers.IntegerField(help_text="1-based data row (a CSV's header is row 0)"),
            "fields": _field_errors()}, help_text="Every failing row with its errors by field")})})


class QueryCreateSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField()


class QueryReplySerializer(serializers.Serializer):
    body = serializers.CharField()


class QueryCloseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Viewsets -------------------------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    incoming = serializer_class(data=data)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


def _require_export(membership: Any, what: str) -> None:
    if not can(membership, Capability.EXPORT):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not export {what}.")


class BatchViewSet(ScopedRecordViewSet):
    """Batches the organization makes (CMO) or that are made for it (sponsor, read-only but for its disposition);
    a live grant on the partnership lets an auditor read them."""

    selector = selectors.batch_list
    detail_serializer_class = BatchDetailSerializer
    filterset_class = BatchFilter
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"create": Capability.RECORD_OPERATIONS, "import_batches": Capability.RECORD_OPERATIONS,
                           "partial_update": Capability.RECORD_OPERATIONS, "submit": Capability.RECORD_OPERATIONS,
                           "delivery": Capability.RECORD_OPERATIONS, "results": Capability.RECORD_OPERATIONS,
                           "return_to_production": Capability.APPROVE_QUALITY_RECORDS,
                           "dispose": Capability.REVIEW_QUALITY_RECORDS}
    #: The sponsor signs its own disposition of the CMO's batch; the service decides whose turn it is.
    partner_actions = frozenset({"dispose"})
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return BatchSerializer
        if self.action == "queue":
            return BatchQueueSerializer
        return BatchDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    def _site(self, site_id: int) -> Site:
        site = Site.objects.filter(pk=site_id, organization_id=self.acting.organization_id).first()
        if site is None:
            raise serializers.ValidationError({"site": ["Choose one of your organization's sites."]})
        return site

    def _product(self, product_id: int) -> Product:
        product = product_list(membership=self.acting).filter(pk=product_id).first()
        if product is None:
            raise serializers.ValidationError({"product": ["No such product that you can see."]})
        return product

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchDetailSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(BatchCreateSerializer, request.data)
        batch = services.batch_create(membership=self.acting, product=self._product(data.pop("product")),
                                      site=self._site(data.pop("site")), **data)
        return self.detail_response(batch, status.HTTP_201_CREATED)

    @extend_schema(request=BatchUpdateSerializer, responses=BatchDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        batch = self.get_object()
        data = _valid(BatchUpdateSerializer, request.data)
        expected, precondition = expected_version_from(request)
        data.pop("version", None)
        if "site" in data:
            data["site"] = self._site(data["site"])
        services.batch_update(membership=self.acting, batch=batch, expected_version=expected,
                              precondition=precondition, **data)
        return self.detail_response(batch)

    @extend_schema(request=None, responses=BatchDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """In production → CMO QA review (the executed batch record must be attached)."""
        return self.detail_response(services.batch_submit(membership=self.acting, batch=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=BatchDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_production(self, request: Request, pk: str | None = None) -> Response:
        """CMO QA review → in production: the record needs correcting first."""
        batch = self.get_object()
        data = _valid(ReasonSerializer, request.data)
        return self.detail_response(services.batch_return(membership=self.acting, batch=batch, reason=data["reason"]))

    @extend_schema(request=DisposeSerializer, responses=BatchDetailSerializer)
    @action(detail=True, methods=["post"])
    def dispose(self, request: Request, pk: str | None = None) -> Response:
        """Sign the acting party's step: the CMO's release (or review, under sponsor-only release) or rejection,
        then the sponsor's release, QP certification or rejection.

        A wrong password answers 400 without raising out of the view, so the failed attempt stays recorded."""
        batch = self.get_object()
        data = _valid(DisposeSerializer, request.data)
        services.batch_dispose(request=request._request, membership=self.acting, batch=batch,
                               choice=data["decision"], password=data["password"], otp=data.get("otp") or None,
                               justification=data["justification"], reason=data["reason"])
        return self.detail_response(batch)

    @extend_schema(request=DeliverySerializer, responses=BatchDetailSerializer)
    @action(detail=True, methods=["post"])
    def delivery(self, request: Request, pk: str | None = None) -> Response:
        """The date the released batch reached the sponsor."""
        batch = self.get_object()
        data = _valid(DeliverySerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.batch_record_delivery(membership=self.acting, batch=batch,
                                       actual_delivery_date=data["actual_delivery_date"], expected_version=expected,
                                       precondition=precondition)
        return self.detail_response(batch)

    @extend_schema(request=ResultsSerializer, responses=BatchDetailSerializer)
    @action(detail=True, methods=["put"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Replace the QC results summary."""
        batch = self.get_object()
        data = _valid(ResultsSerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.qc_results_set(membership=self.acting, batch=batch, expected_version=expected,
                                precondition=precondition,
                                results=[services.QcLine(**line) for line in data["results"]])
        return self.detail_response(batch)

    @extend_schema(request=ChangesSerializer, responses=BatchDetailSerializer)
    @action(detail=True, methods=["put"])
    def changes(self, request: Request, pk: str | None = None) -> Response:
        """Replace the list of change controls in effect for the batch."""
        batch = self.get_object()
        data = _valid(ChangesSerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.changes_set(membership=self.acting, batch=batch, expected_version=expected,
                             precondition=precondition,
                             changes=[services.ChangeLine(**line) for line in data["changes"]])
        return self.detail_response(batch)

    @extend_schema(methods=["GET"], responses=BatchDocumentSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": DocumentUploadSerializer},
                   responses={201: BatchDocumentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def documents(self, request: Request, pk: str | None = None) -> Response:
        """The batch's documents (superseded ones stay on record); attach one (multipart). A new executed batch
        record or certificate of analysis supersedes the previous one."""
        batch = self.get_object()
        if request.method == "GET":
            return Response(BatchDocumentSerializer(selectors.documents_of(membership=self.acting, batch=batch),
                                                    many=True).data)
        data = _valid(DocumentUploadSerializer, request.data)
        document = services.document_add(membership=self.acting, batch=batch, kind=data["kind"],
                                         upload=data["file"], title=data["title"])
        fresh = selectors.document_list(membership=self.acting).get(pk=document.pk)
        return Response(BatchDocumentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=BatchExceptionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def exceptions(self, request: Request, pk: str | None = None) -> Response:
        """The review-by-exception summary: what a reviewer must look at before deciding."""
        batch = self.get_object()
        return Response(BatchExceptionSerializer(selectors.exceptions_of(membership=self.acting, batch=batch),
                                                 many=True).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The batch dossier: data, exceptions, documents with hashes, dispositions with signatures, audit trail."""
        batch = self.get_object()
        _require_export(self.acting, "records")
        return batch_pdf_response(request._request, self.acting, batch)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, filters=True)
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """The filtered list as CSV."""
        _require_export(self.acting, "lists")
        return csv_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(responses=BatchQueueSerializer(many=True))
    @action(detail=False, methods=["get"])
    def queue(self, request: Request) -> Response:
        """What waits for the organization's quality unit, oldest first: a sponsor's batches awaiting its
        disposition, a CMO's batches in its own QA review. Filters as the list."""
        queryset = self.filter_queryset(selectors.review_queue(membership=self.acting))
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(BatchQueueSerializer(queryset, many=True).data)
        return self.get_paginated_response(BatchQueueSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ImportFileSerializer, "application/json": ImportRowsSerializer},
        responses={201: BatchSerializer(many=True), 400: ImportRefusalSerializer})
    @action(detail=False, methods=["post"], url_path="import", url_name="import", filter_backends=[],
            pagination_class=None)
    def import_batches(self, request: Request) -> Response:
        """Register many batches at once, from a CSV file or JSON rows: all or nothing. When any row is invalid,
        nothing is registered and the answer lists every failing row with its errors by field."""
        if (request.content_type or "").startswith("multipart/"):
            upload = _valid(ImportFileSerializer, request.data)["file"]
            rows: list[Any] = rows_from_csv(upload.read())
        else:
            rows = [dict(row) for row in _valid(ImportRowsSerializer, request.data)["rows"]]
        try:
            created = batches_import(membership=self.acting, rows=rows)
        except ImportRefused as refused:
            return Response({"error": {"code": "invalid", "message": refused.message_dict["rows"][0],
                                       "fields": refused.message_dict,
                                       "rows": [{"row": r.row, "fields": r.fields} for r in refused.rows]}},
                            status=status.HTTP_400_BAD_REQUEST)
        fresh = selectors.batch_list(membership=self.acting).filter(pk__in=[b.pk for b in created]).order_by("id")
        return Response(BatchSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


class BatchDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Documents of the batches the organization may see; ``content`` serves the file (a PDF inline, framed only
    by this site's pages; ``?download=1`` as an attachment)."""

    selector = selectors.document_list
    serializer_class = BatchDocumentSerializer
    filterset_fields = ["batch", "kind", "superseded"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              (200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def content(self, request: Request, pk: str | None = None) -> FileResponse:
        return document_response(self.get_object(), inline=not request.query_params.get("download"))


class BatchQueryViewSet(ScopedRecordViewSet):
    """The sponsor's queries about batches: the sponsor raises and closes them, both parties write in the thread."""

    selector = selectors.query_list
    detail_serializer_class = BatchQueryDetailSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    #: The CMO answers in the sponsor's thread (its message is its own row).
    partner_actions = frozenset({"reply"})
    filterset_fields = ["batch", "state"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return BatchQuerySerializer if self.action == "list" else BatchQueryDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    @extend_schema(request=QueryCreateSerializer, responses={201: BatchQueryDetailSerializer})
    def create(self, request: Request) -> Response:
        """Ask the CMO about a batch (the sponsor); the CMO's quality unit is told at once."""
        data = _valid(QueryCreateSerializer, request.data)
        batch = selectors.batch_list(membership=self.acting).filter(pk=data["batch"]).first()
        if batch is None:
            raise serializers.ValidationError({"batch": ["No such batch that you can see."]})
        query = services.query_raise(membership=self.acting, batch=batch, subject=data["subject"], body=data["body"])
        return self.detail_response(query, status.HTTP_201_CREATED)

    @extend_schema(request=QueryReplySerializer, responses={201: QueryMessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        """A message in the thread, from either party; the other party is told."""
        query = self.get_object()
        data = _valid(QueryReplySerializer, request.data)
        message = services.query_reply(membership=self.acting, query=query, body=data["body"])
        return Response(QueryMessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=QueryCloseSerializer, responses=BatchQueryDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """The sponsor is satisfied (or withdraws the query)."""
        query = self.get_object()
        data = _valid(QueryCloseSerializer, request.data)
        return self.detail_response(services.query_close(membership=self.acting, query=query, note=data["note"]))


class BatchDispositionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The signed steps of the release chain, each owned by the party that signed it (read-only: they are signed
    through ``batches/{id}/dispose/``)."""

    selector = selectors.disposition_list
    filterset_fields = ["batch", "step", "decision"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return DispositionSerializer if self.action == "list" else DispositionDetailSerializer
