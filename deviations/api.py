"""REST API for deviations, their notices, extension requests, consistency flags and root-cause codes.

Thin: reads through ``deviations.selectors`` (via ``ScopedViewSet``), writes through ``deviations.services``; the
pages in ``deviations.views`` use the same. A sponsor reads a deviation with only its own product lines, notices,
comments and timeline; edits need the version read (If-Match or ``version``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from deviations import selectors, services, taxonomy
from deviations.export import csv_response
from deviations.filters import DeviationFilter, FlagFilter
from deviations.models import (
    AffectedProduct,
    Classification,
    Comment,
    ConsistencyFlag,
    Deviation,
    ExtensionRequest,
    Notice,
    RepeatLink,
    RootCauseCode,
    TimelineEntry,
)
from deviations.pdf import deviation_pdf_response
from part11.api import SignatureSerializer, SignSerializer, SignWithReasonSerializer
from part11.signatures import signatures_of
from qms.versioning import expected_version_from
from tenants.api import ReasonSerializer
from tenants.models import Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedRecordViewSet, ScopedViewSet

# --- Serializers ----------------------------------------------------------------------------------------------


class LineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)

    class Meta:
        model = AffectedProduct
        fields = ["id", "product", "product_code", "sponsor", "sponsor_name", "partnership", "batch_numbers",
                  "impact"]


class LineWriteSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    batch_numbers = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)


class DeviationSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)
    products = serializers.SerializerMethodField()
    closure_due_at = serializers.DateTimeField(source="closure_deadline.due_at", read_only=True, default=None)

    class Meta:
        model = Deviation
        fields = ["id", "number", "title", "organization", "site", "site_name", "area_equipment", "process_step",
                  "category", "discovered_at", "discovered_by", "state", "reported_at", "classification",
                  "root_cause_code", "is_repeat", "closure_due_at", "products", "version"]
        read_only_fields = fields

    @extend_schema_field(LineSerializer(many=True))
    def get_products(self, deviation: Deviation) -> Any:
        return LineSerializer(getattr(deviation, "visible_lines", []), many=True).data


class TimelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimelineEntry
        fields = ["at", "actor_name", "text"]


class NoticeSerializer(serializers.ModelSerializer):
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    due_at = serializers.DateTimeField(source="deadline.due_at", read_only=True, default=None)
    acknowledged_at = serializers.DateTimeField(source="acknowledgement.acknowledged_at", read_only=True,
                                                default=None)
    acknowledged_by = serializers.CharField(source="acknowledgement.acknowledged_by_name", read_only=True,
                                            default=None)

    class Meta:
        model = Notice
        fields = ["id", "deviation", "sponsor", "sponsor_name", "classification", "due_at", "notified_at",
                  "recipients", "superseded", "acknowledged_at", "acknowledged_by"]


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "organization", "sponsor", "kind", "body", "author_name", "created_at"]
        read_only_fields = ["id", "organization", "author_name", "created_at"]


class RepeatSerializer(serializers.ModelSerializer):
    earlier_number = serializers.CharField(source="earlier.number", read_only=True)

    class Meta:
        model = RepeatLink
        fields = ["earlier", "earlier_number", "matched_on"]


class DeviationDetailSerializer(DeviationSerializer):
    """One deviation as the reader may see it: the lines, notices, comments, timeline of the reader only."""

    notices = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    repeats = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()
    missing_for_approval = serializers.SerializerMethodField()

    class Meta(DeviationSerializer.Meta):
        fields = [*DeviationSerializer.Meta.fields, "description", "immediate_actions", "classification_rationale",
                  "investigation_method", "findings", "root_cause_version", "root_cause_label", "conclusion",
                  "outcome", "capa_not_required_reason", "submitted_at", "closed_at", "cancel_reason",
                  "reopen_reason", "notices", "comments", "timeline", "repeats", "signatures",
                  "missing_for_approval"]
        read_only_fields = fields

    def _member(self) -> Any:
        return self.context["membership"]

    @extend_schema_field(NoticeSerializer(many=True))
    def get_notices(self, d: Deviation) -> Any:
        return NoticeSerializer(selectors.notices_of(membership=self._member(), deviation=d), many=True).data

    @extend_schema_field(CommentSerializer(many=True))
    def get_comments(self, d: Deviation) -> Any:
        return CommentSerializer(selectors.comments_of(membership=self._member(), deviation=d), many=True).data

    @extend_schema_field(TimelineSerializer(many=True))
    def get_timeline(self, d: Deviation) -> Any:
        return TimelineSerializer(selectors.timeline_of(membership=self._member(), deviation=d), many=True).data

    @extend_schema_field(RepeatSerializer(many=True))
    def get_repeats(self, d: Deviation) -> Any:
        return RepeatSerializer(selectors.repeats_of(membership=self._member(), deviation=d), many=True).data

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, d: Deviation) -> Any:
        return SignatureSerializer(signatures_of(d), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_for_approval(self, d: Deviation) -> list[str]:
        if d.organization_id != self._member().organization_id:
            return []
        return services.missing_for_approval(d)


class DeviationCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    site = serializers.IntegerField()
    area_equipment = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    process_step = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(required=False, default="manufacturing")
    discovered_at = serializers.DateTimeField()
    discovered_by = serializers.CharField(max_length=200)
    description = serializers.CharField()
    immediate_actions = serializers.CharField(required=False, allow_blank=True, default="")
    lines = LineWriteSerializer(many=True, required=False, default=list)
    report = serializers.BooleanField(required=False, default=False, help_text="Report at once (else a draft)")


class DeviationUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    site = serializers.IntegerField(required=False)
    area_equipment = serializers.CharField(max_length=200, required=False, allow_blank=True)
    process_step = serializers.CharField(max_length=200, required=False, allow_blank=True)
    category = serializers.CharField(required=False)
    discovered_at = serializers.DateTimeField(required=False)
    discovered_by = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    immediate_actions = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)


class LinesSerializer(serializers.Serializer):
    lines = LineWriteSerializer(many=True)
    version = serializers.IntegerField(required=False)


class ClassifySerializer(serializers.Serializer):
    classification = serializers.ChoiceField(choices=Classification.choices)
    rationale = serializers.CharField()
    version = serializers.IntegerField(required=False)


class InvestigationSerializer(serializers.Serializer):
    investigation_method = serializers.CharField(required=False, allow_blank=True)
    findings = serializers.CharField(required=False, allow_blank=True)
    root_cause_code = serializers.CharField(required=False, allow_blank=True)
    conclusion = serializers.CharField(required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    capa_not_required_reason = serializers.CharField(required=False, allow_blank=True)
    impacts = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False,
                                    help_text="{line id: product-impact assessment}")
    version = serializers.IntegerField(required=False)


class NotifySerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, default="")
    partnerships = serializers.ListField(child=serializers.IntegerField(), required=False,
                                         help_text="Only these sponsors' partnerships (default: all not yet told)")


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField()
    kind = serializers.ChoiceField(choices=Comment.Kind.choices, default=Comment.Kind.COMMENT)
    sponsor = serializers.IntegerField(required=False, allow_null=True, help_text="CMO only: the sponsor addressed")


class ExtensionSerializer(serializers.ModelSerializer):
    deviation_number = serializers.CharField(source="deviation.number", read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = ["id", "deviation", "deviation_number", "requested_due_date", "justification", "state",
                  "requested_at", "decided_at", "decision_note"]
        read_only_fields = ["id", "deviation", "deviation_number", "state", "requested_at", "decided_at",
                            "decision_note"]


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FlagSerializer(serializers.ModelSerializer):
    first_number = serializers.CharField(source="first.number", read_only=True)
    second_number = serializers.CharField(source="second.number", read_only=True)

    class Meta:
        model = ConsistencyFlag
        fields = ["id", "first", "first_number", "second", "second_number", "root_cause_code", "process_step",
                  "differences", "state", "raised_at", "reviewed_at", "review_note"]
        read_only_fields = fields


class FlagReviewSerializer(serializers.Serializer):
    note = serializers.CharField()


class CauseSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="parent", max_length=10, help_text="The standard category it refines")
    standard = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = RootCauseCode
        fields = ["code", "name", "category", "standard"]


# --- Viewsets -------------------------------------------------------------------------------------------------


def _sign_input(request: Request, serializer: type[serializers.Serializer] = SignSerializer) -> dict[str, Any]:
    incoming = serializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


class DeviationViewSet(ScopedRecordViewSet):
    """Deviations the organization owns (CMO) or that affect its products (sponsor, read-only, own lines only)."""

    selector = selectors.deviation_list
    detail_serializer_class = DeviationDetailSerializer
    filterset_class = DeviationFilter
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"create": Capability.RECORD_OPERATIONS, "report": Capability.RECORD_OPERATIONS,
                           "partial_update": Capability.RECORD_OPERATIONS, "lines": Capability.RECORD_OPERATIONS,
                           "close": Capability.APPROVE_QUALITY_RECORDS, "cancel": Capability.APPROVE_QUALITY_RECORDS,
                           "reopen": Capability.APPROVE_QUALITY_RECORDS,
                           "return_for_rework": Capability.APPROVE_QUALITY_RECORDS}
    partner_actions = frozenset({"comments"})
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return DeviationSerializer if self.action == "list" else DeviationDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    def _site(self, site_id: int) -> Site:
        site = Site.objects.filter(pk=site_id, organization_id=self.acting.organization_id).first()
        if site is None:
            raise serializers.ValidationError({"site": ["Choose one of your organization's sites."]})
        return site

    @extend_schema(request=DeviationCreateSerializer, responses={201: DeviationDetailSerializer})
    def create(self, request: Request) -> Response:
        incoming = DeviationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        lines = [services.Line(product_id=line["product"], batch_numbers=tuple(line["batch_numbers"]))
                 for line in data.pop("lines")]
        report = data.pop("report")
        with transaction.atomic():  # a refused report leaves no draft behind
            deviation = services.deviation_create(membership=self.acting, site=self._site(data.pop("site")),
                                                  lines=lines, **data)
            if report:
                services.deviation_report(membership=self.acting, deviation=deviation)
        return self.detail_response(deviation, status.HTTP_201_CREATED)

    @extend_schema(request=DeviationUpdateSerializer, responses=DeviationDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deviation = self.get_object()
        incoming = DeviationUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        data = {k: v for k, v in incoming.validated_data.items() if k != "version"}
        if "site" in data:
            data["site"] = self._site(data["site"])
        services.deviation_update(membership=self.acting, deviation=deviation, expected_version=expected,
                                  precondition=precondition, **data)
        return self.detail_response(deviation)

    @extend_schema(request=LinesSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["put"])
    def lines(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        incoming = LinesSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        services.lines_set(membership=self.acting, deviation=deviation, expected_version=expected,
                           precondition=precondition, lines=[
                               services.Line(product_id=line["product"], batch_numbers=tuple(line["batch_numbers"]))
                               for line in incoming.validated_data["lines"]])
        return self.detail_response(deviation)

    @extend_schema(request=None, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        deviation = services.deviation_report(membership=self.acting, deviation=self.get_object())
        return self.detail_response(deviation)

    @extend_schema(request=ClassifySerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def classify(self, request: Request, pk: str | None = None) -> Response:
        incoming = ClassifySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        deviation = services.deviation_classify(
            membership=self.acting, deviation=self.get_object(), expected_version=incoming.validated_data.get(
                "version"), classification=incoming.validated_data["classification"],
            rationale=incoming.validated_data["rationale"])
        return self.detail_response(deviation)

    @extend_schema(request=None, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="start-investigation")
    def start_investigation(self, request: Request, pk: str | None = None) -> Response:
        deviation = services.deviation_start_investigation(membership=self.acting, deviation=self.get_object())
        return self.detail_response(deviation)

    @extend_schema(request=InvestigationSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["put"])
    def investigation(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        incoming = InvestigationSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        data = dict(incoming.validated_data)
        data.pop("version", None)
        impacts = {int(k): v for k, v in data.pop("impacts", {}).items() if str(k).isdigit()}
        services.investigation_update(membership=self.acting, deviation=deviation, impacts=impacts,
                                      expected_version=expected, precondition=precondition, **data)
        return self.detail_response(deviation)

    @extend_schema(request=None, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self.detail_response(services.deviation_submit(membership=self.acting, deviation=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_for_rework(self, request: Request, pk: str | None = None) -> Response:
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self.detail_response(services.deviation_return(membership=self.acting, deviation=self.get_object(),
                                                      reason=incoming.validated_data["reason"]))

    @extend_schema(request=SignSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        data = _sign_input(request)
        services.deviation_sign_close(request=request._request, membership=self.acting, deviation=deviation,
                                      password=data["password"], otp=data.get("otp"))
        return self.detail_response(deviation)

    @extend_schema(request=SignWithReasonSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        data = _sign_input(request, SignWithReasonSerializer)
        services.deviation_cancel(request=request._request, membership=self.acting, deviation=deviation,
                                  reason=data["reason"], password=data["password"], otp=data.get("otp"))
        return self.detail_response(deviation)

    @extend_schema(request=ReasonSerializer, responses=DeviationDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self.detail_response(services.deviation_reopen(membership=self.acting, deviation=self.get_object(),
                                                      reason=incoming.validated_data["reason"]))

    @extend_schema(request=NotifySerializer, responses=NoticeSerializer(many=True))
    @action(detail=True, methods=["post"])
    def notify(self, request: Request, pk: str | None = None) -> Response:
        incoming = NotifySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        notices = services.deviation_notify(membership=self.acting, deviation=self.get_object(),
                                            message=incoming.validated_data["message"],
                                            partnership_ids=incoming.validated_data.get("partnerships"))
        return Response(NoticeSerializer(notices, many=True).data)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentWriteSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], url_path="comments")
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """Read the comment threads the member may see; post one (a sponsor's goes to the CMO)."""
        deviation = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(selectors.comments_of(membership=self.acting, deviation=deviation),
                                              many=True).data)
        incoming = CommentWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        comment = services.comment_add(membership=self.acting, deviation=deviation,
                                       body=incoming.validated_data["body"], kind=incoming.validated_data["kind"],
                                       sponsor_id=incoming.validated_data.get("sponsor"))
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExtensionSerializer, responses={201: ExtensionSerializer})
    @action(detail=True, methods=["post"])
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        incoming = ExtensionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        extension = services.extension_request(membership=self.acting, deviation=self.get_object(),
                                               due_date=incoming.validated_data["requested_due_date"],
                                               justification=incoming.validated_data["justification"])
        return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        deviation = self.get_object()
        if not can(self.acting, Capability.EXPORT):
            raise PermissionDenied(f"Your role ({self.acting.get_role_display()}) may not export records.")
        return deviation_pdf_response(request._request, self.acting, deviation)

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "integer"}}})
    @action(detail=False, methods=["get"])
    def counts(self, request: Request) -> Response:
        """How many deviations per status, after the same filters as the list."""
        return Response(selectors.counts_by_state(self.filter_queryset(self.get_queryset())))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """The filtered list as CSV (only the product lines the member may see)."""
        if not can(self.acting, Capability.EXPORT):
            raise PermissionDenied(f"Your role ({self.acting.get_role_display()}) may not export lists.")
        return csv_response(self.filter_queryset(self.get_queryset()))


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Deviation notices: the CMO's record of telling each sponsor; the sponsor acknowledges its own."""

    selector = selectors.notice_list
    serializer_class = NoticeSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    partner_actions = frozenset({"acknowledge"})
    filterset_fields = ["deviation"]

    @extend_schema(request=AcknowledgeSerializer, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        notice = self.get_object()
        incoming = AcknowledgeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.notice_acknowledge(membership=self.acting, notice=notice, note=incoming.validated_data["note"])
        return Response(NoticeSerializer(selectors.notice_list(membership=self.acting).get(pk=notice.pk)).data)


class ExtensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Closure-target extension requests (the CMO's own); another QA approver approves or rejects."""

    selector = selectors.extension_list
    serializer_class = ExtensionSerializer
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    filterset_fields = ["deviation", "state"]

    def _decide(self, approve: bool) -> Response:
        incoming = DecisionSerializer(data=self.request.data)
        incoming.is_valid(raise_exception=True)
        extension = services.extension_decide(membership=self.acting, extension=self.get_object(), approve=approve,
                                              note=incoming.validated_data["note"])
        return Response(ExtensionSerializer(extension).data)

    @extend_schema(request=DecisionSerializer, responses=ExtensionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(True)

    @extend_schema(request=DecisionSerializer, responses=ExtensionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(False)


class ConsistencyFlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cross-sponsor consistency flags (the CMO only); its QA head reviews them."""

    selector = selectors.flag_list
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    write_capability = Capability.APPROVE_QUALITY_RECORDS

    @extend_schema(request=FlagReviewSerializer, responses=FlagSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        incoming = FlagReviewSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        flag = services.flag_review(membership=self.acting, flag=self.get_object(),
                                    note=incoming.validated_data["note"])
        return Response(FlagSerializer(flag).data)


class RootCauseViewSet(mixins.ListModelMixin, ScopedViewSet):
    """The root-cause taxonomy: the standard codes (``standard: true``) and the organization's own."""

    selector = selectors.own_causes
    serializer_class = CauseSerializer
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    pagination_class = None

    @extend_schema(responses={200: {"type": "object", "properties": {
        "version": {"type": "string"}, "codes": {"type": "array", "items": {"type": "object"}}}}})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        standard = [{"code": c.code, "name": c.name, "category": c.parent, "standard": True}
                    for c in (*taxonomy.CATEGORIES, *taxonomy.CODES)]
        own = [{"code": c.code, "name": c.name, "category": c.parent, "standard": False}
               for c in self.get_queryset().filter(is_active=True)]
        return Response({"version": taxonomy.VERSION, "codes": standard + own})

    @extend_schema(request=CauseSerializer, responses={201: CauseSerializer})
    def create(self, request: Request) -> Response:
        incoming = CauseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        cause: RootCauseCode = services.cause_add(membership=self.acting, code=data["code"], name=data["name"],
                                                  parent=data["parent"])
        return Response({"code": cause.code, "name": cause.name, "category": cause.parent, "standard": False},
                        status=status.HTTP_201_CREATED)
