"""REST API for quality agreements, the RACI catalogue and the subcontractor consent register.

Thin: reads through ``agreements.selectors`` (via ``ScopedViewSet``), writes through ``agreements.services`` and
``part11.signatures``; the pages in ``agreements.views`` use the same modules. Only the two parties of a
partnership reach its agreement (a foreign one answers 404); edits need the version read (If-Match or ``version``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agreements import checks, compare, pdf, selectors, services
from agreements.models import (
    AgreementSection,
    DataSharingTerm,
    GmpActivity,
    NotificationWindow,
    QualityAgreement,
    RaciRow,
    SubcontractorConsent,
)
from part11 import signatures
from part11.api import SignSerializer
from qms.versioning import expected_version_from
from tenants.api import OrganizationRefSerializer, ReasonSerializer
from tenants.models import Partnership
from tenants.permissions import Capability
from tenants.scoping import ScopedRecordViewSet, ScopedViewSet
from tenants.selectors import partnership_list

# --- Serializers ----------------------------------------------------------------------------------------------


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementSection
        fields = ["key", "title", "body"]


class RaciRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = RaciRow
        fields = ["activity_code", "activity_name", "critical", "sponsor", "cmo"]


class WindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationWindow
        fields = ["event", "amount", "unit", "calendar"]


class DataSharingSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSharingTerm
        fields = ["data", "format", "frequency"]


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    where = serializers.CharField()
    message = serializers.CharField()


class AgreementSerializer(serializers.ModelSerializer):
    sponsor = OrganizationRefSerializer(read_only=True)
    cmo = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = QualityAgreement
        fields = ["id", "partnership", "sponsor", "cmo", "number", "title", "state", "effective_from",
                  "effective_until", "review_interval_months", "next_review_date", "release_model",
                  "deviation_closure_days", "batch_review_days", "change_sponsor_approval", "change_notify_only",
                  "change_notice_lead_days", "audit_right", "audit_cadence_months", "checks_override",
                  "termination_reason", "supersedes", "created_at", "version"]
        read_only_fields = ["partnership", "number", "state", "effective_until", "next_review_date",
                            "checks_override", "termination_reason", "supersedes", "created_at", "version"]


class AgreementDetailSerializer(AgreementSerializer):
    sections = SectionSerializer(many=True, read_only=True)
    raci = RaciRowSerializer(many=True, read_only=True)
    windows = WindowSerializer(many=True, read_only=True)
    data_sharing = DataSharingSerializer(many=True, read_only=True)

    class Meta(AgreementSerializer.Meta):
        fields = [*AgreementSerializer.Meta.fields, "sections", "raci", "windows", "data_sharing"]


class AgreementCreateSerializer(serializers.Serializer):
    partnership = serializers.IntegerField()
    title = serializers.CharField(required=False, allow_blank=True)
    effective_from = serializers.DateField(required=False, allow_null=True)


class SectionWriteSerializer(serializers.Serializer):
    key = serializers.CharField()
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    version = serializers.IntegerField(required=False)


class RaciCellSerializer(serializers.Serializer):
    sponsor = serializers.CharField(allow_blank=True)
    cmo = serializers.CharField(allow_blank=True)


class RaciWriteSerializer(serializers.Serializer):
    rows = serializers.DictField(child=RaciCellSerializer(), help_text="{activity_code: {sponsor, cmo}}")
    version = serializers.IntegerField(required=False)


class WindowWriteSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    calendar = serializers.CharField(allow_blank=True, required=False, default="")


class WindowsWriteSerializer(serializers.Serializer):
    windows = serializers.DictField(child=WindowWriteSerializer(), help_text="{event: {amount, unit, calendar}}")
    version = serializers.IntegerField(required=False)


class DataSharingWriteSerializer(serializers.Serializer):
    terms = DataSharingSerializer(many=True)


class OverrideSerializer(SignSerializer):
    justification = serializers.CharField()


class CompareSerializer(serializers.Serializer):
    sections = serializers.ListField(child=serializers.DictField())
    raci = serializers.ListField(child=serializers.DictField())
    terms = serializers.ListField(child=serializers.DictField())


def _sign(request: Request, membership: Any, record: Any, step: str) -> Any:
    incoming = SignSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    return signatures.sign(request=request._request, membership=membership, record=record, step=step,
                           password=incoming.validated_data["password"], otp=incoming.validated_data.get("otp"))


# --- Viewsets -------------------------------------------------------------------------------------------------


class AgreementViewSet(ScopedRecordViewSet):
    """Quality agreements of the partnerships the organization is party to, every version."""

    selector = selectors.agreement_list
    detail_serializer_class = AgreementDetailSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"approve": Capability.APPROVE_QUALITY_RECORDS,
                           "override": Capability.APPROVE_QUALITY_RECORDS,
                           "terminate": Capability.APPROVE_QUALITY_RECORDS}
    filterset_fields = ["partnership", "state"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return AgreementSerializer if self.action == "list" else AgreementDetailSerializer

    @extend_schema(request=AgreementCreateSerializer, responses={201: AgreementDetailSerializer})
    def create(self, request: Request) -> Response:
        incoming = AgreementCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        partnership = partnership_list(membership=self.acting).filter(pk=incoming.validated_data["partnership"]).first()
        if partnership is None:
            raise serializers.ValidationError({"partnership": ["No such partnership of yours."]})
        agreement = services.agreement_create(membership=self.acting, partnership=partnership,
                                              title=incoming.validated_data.get("title", ""),
                                              effective_from=incoming.validated_data.get("effective_from"))
        return self.detail_response(agreement, status.HTTP_201_CREATED)

    @extend_schema(request=AgreementSerializer, responses=AgreementDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agreement = self.get_object()
        incoming = AgreementSerializer(agreement, data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        services.agreement_update(membership=self.acting, agreement=agreement, expected_version=expected,
                                  precondition=precondition, **incoming.validated_data)
        return self.detail_response(agreement)

    @extend_schema(request=SectionWriteSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["put"])
    def sections(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = SectionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        services.section_update(membership=self.acting, agreement=agreement, key=incoming.validated_data["key"],
                                body=incoming.validated_data["body"], expected_version=expected,
                                precondition=precondition)
        return self.detail_response(agreement)

    @extend_schema(request=RaciWriteSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["put"])
    def raci(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = RaciWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        rows = {code: (cell["sponsor"], cell["cmo"]) for code, cell in incoming.validated_data["rows"].items()}
        services.raci_update(membership=self.acting, agreement=agreement, rows=rows, expected_version=expected,
                             precondition=precondition)
        return self.detail_response(agreement)

    @extend_schema(request=WindowsWriteSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["put"])
    def windows(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = WindowsWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        windows = {event: (w["amount"], w["unit"], w.get("calendar", ""))
                   for event, w in incoming.validated_data["windows"].items()}
        services.windows_update(membership=self.acting, agreement=agreement, windows=windows,
                                expected_version=expected, precondition=precondition)
        return self.detail_response(agreement)

    @extend_schema(request=DataSharingWriteSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["put"], url_path="data-sharing")
    def data_sharing(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = DataSharingWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.data_sharing_set(membership=self.acting, agreement=agreement, terms=[
            (t["data"], t["format"], t["frequency"]) for t in incoming.validated_data["terms"]])
        return self.detail_response(agreement)

    @extend_schema(responses=FindingSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="checks")
    def findings(self, request: Request, pk: str | None = None) -> Response:
        return Response(FindingSerializer(checks.run_checks(self.get_object()), many=True).data)

    @extend_schema(request=None, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        agreement = services.agreement_submit(membership=self.acting, agreement=self.get_object())
        return self.detail_response(agreement)

    @extend_schema(request=ReasonSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.agreement_return_to_draft(membership=self.acting, agreement=agreement,
                                           reason=incoming.validated_data["reason"])
        return self.detail_response(agreement)

    @extend_schema(request=SignSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Sign the approval of your own party's quality unit (sponsor or CMO)."""
        agreement = self.get_object()
        step = "approve-sponsor" if self.acting.organization_id == agreement.sponsor_id else "approve-cmo"
        _sign(request, self.acting, agreement, step)
        return self.detail_response(agreement)

    @extend_schema(request=OverrideSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"])
    def override(self, request: Request, pk: str | None = None) -> Response:
        """Approve despite failed checks: the justification is recorded, then signed."""
        agreement = self.get_object()
        incoming = OverrideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.agreement_record_override(membership=self.acting, agreement=agreement,
                                           justification=incoming.validated_data["justification"])
        _sign(request, self.acting, agreement, "override-checks")
        return self.detail_response(agreement)

    @extend_schema(request=ReasonSerializer, responses=AgreementDetailSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.agreement_terminate(membership=self.acting, agreement=agreement,
                                     reason=incoming.validated_data["reason"])
        return self.detail_response(agreement)

    @extend_schema(parameters=[OpenApiParameter("other", OpenApiTypes.INT, description="Version to compare with "
                                                "(default: the one this version supersedes)")],
                   responses=CompareSerializer)
    @action(detail=True, methods=["get"], url_path="compare")
    def comparison(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        other = compare.other_version(self.acting, agreement, request.query_params.get("other"))
        return Response(compare.compare(other, agreement).as_dict())

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="pdf")
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        return pdf.agreement_pdf_response(request, self.acting, self.get_object())


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubcontractorConsent
        fields = ["id", "partnership", "subcontractor", "site", "country", "activities", "state",
                  "withdrawn_reason", "created_at"]
        read_only_fields = ["state", "withdrawn_reason", "created_at"]


class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The subcontractor consent register: proposed by the CMO, approved by the sponsor's signature."""

    selector = selectors.consent_list
    serializer_class = ConsentSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"approve": Capability.APPROVE_QUALITY_RECORDS,
                           "withdraw": Capability.APPROVE_QUALITY_RECORDS}
    filterset_fields = ["partnership", "state"]

    def create(self, request: Request) -> Response:
        incoming = ConsentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        partnership: Partnership = data.pop("partnership")
        if not partnership_list(membership=self.acting).filter(pk=partnership.pk).exists():
            raise serializers.ValidationError({"partnership": ["No such partnership of yours."]})
        consent = services.consent_propose(membership=self.acting, partnership=partnership, **data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SignSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        consent = self.get_object()
        _sign(request, self.acting, consent, "approve")
        consent.refresh_from_db()
        return Response(ConsentSerializer(consent).data)

    @extend_schema(request=ReasonSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        consent = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.consent_withdraw(membership=self.acting, consent=consent, reason=incoming.validated_data["reason"])
        return Response(ConsentSerializer(consent).data)


class ActivitySerializer(serializers.ModelSerializer):
    standard = serializers.SerializerMethodField()

    class Meta:
        model = GmpActivity
        fields = ["id", "code", "name", "critical", "standard"]

    def get_standard(self, obj: GmpActivity) -> bool:
        return obj.organization_id is None


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The RACI catalogue: standard GMP activities plus the organization's own."""

    selector = selectors.activity_catalogue
    serializer_class = ActivitySerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS

    def create(self, request: Request) -> Response:
        incoming = ActivitySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        activity = services.activity_create(membership=self.acting, **incoming.validated_data)
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


