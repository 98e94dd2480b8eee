"""REST API for CAPA and its actions. Thin: ``capa.selectors`` to read, ``capa.services`` to write (the pages use
the same). A sponsor reads a CMO's CAPA linked to a deviation that affects it; only the owner writes."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from capa import selectors, services
from capa.filters import CapaFilter
from capa.models import Capa, CapaAction
from deviations.selectors import deviation_list
from part11.api import SignSerializer, SignWithReasonSerializer
from part11.pdf import pdf_response
from qms.versioning import expected_version_from
from tenants.models import Membership
from tenants.permissions import Capability, can
from tenants.scoping import ScopedRecordViewSet, ScopedViewSet


class ActionSerializer(serializers.ModelSerializer):
    due_at = serializers.DateTimeField(source="deadline.due_at", read_only=True, default=None)

    class Meta:
        model = CapaAction
        fields = ["id", "capa", "kind", "description", "owner", "owner_name", "due_date", "due_at", "completed_at",
                  "evidence"]
        read_only_fields = ["id", "capa", "owner_name", "due_at", "completed_at", "evidence"]


class CapaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Capa
        fields = ["id", "number", "title", "description", "organization", "source", "source_deviation",
                  "source_reference", "state", "effectiveness", "effectiveness_criteria", "effectiveness_due",
                  "effectiveness_note", "close_before_check", "closed_at", "cancel_reason", "created_at", "version"]
        read_only_fields = ["id", "number", "organization", "state", "effectiveness", "effectiveness_criteria",
                            "effectiveness_due", "effectiveness_note", "close_before_check", "closed_at",
                            "cancel_reason", "created_at", "version"]


class CapaDetailSerializer(CapaSerializer):
    actions = ActionSerializer(many=True, read_only=True)
    closure_refusal = serializers.SerializerMethodField()

    class Meta(CapaSerializer.Meta):
        fields = [*CapaSerializer.Meta.fields, "actions", "closure_refusal"]

    def get_closure_refusal(self, capa: Capa) -> str | None:
        return services.closure_refusal(capa) if capa.state == Capa.State.OPEN else None


class CapaUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    source_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)


class ActionWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CapaAction.Kind.choices)
    description = serializers.CharField()
    owner = serializers.IntegerField(help_text="A membership of your organization")
    due_date = serializers.DateField()


class EffectivenessPlanSerializer(serializers.Serializer):
    criteria = serializers.CharField()
    due_date = serializers.DateField()
    close_before_check = serializers.CharField(required=False, allow_blank=True, default="")


class EffectivenessResultSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    note = serializers.CharField()


class EvidenceSerializer(serializers.Serializer):
    evidence = serializers.CharField()


class CapaViewSet(ScopedRecordViewSet):
    selector = selectors.capa_list
    detail_serializer_class = CapaDetailSerializer
    filterset_class = CapaFilter
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"close": Capability.APPROVE_QUALITY_RECORDS, "cancel": Capability.APPROVE_QUALITY_RECORDS,
                           "effectiveness_result": Capability.APPROVE_QUALITY_RECORDS}
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return CapaSerializer if self.action in ("list", "create") else CapaDetailSerializer

    @extend_schema(request=CapaSerializer, responses={201: CapaDetailSerializer})
    def create(self, request: Request) -> Response:
        incoming = CapaSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        deviation = data.pop("source_deviation", None)
        if deviation is not None and not deviation_list(membership=self.acting).filter(pk=deviation.pk).exists():
            raise serializers.ValidationError({"source_deviation": ["No such deviation that you can see."]})
        capa = services.capa_create(membership=self.acting, source_deviation=deviation, **data)
        return self.detail_response(capa, status.HTTP_201_CREATED)

    @extend_schema(request=CapaUpdateSerializer, responses=CapaDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        capa = self.get_object()
        incoming = CapaUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        data = {k: v for k, v in incoming.validated_data.items() if k != "version"}
        services.capa_update(membership=self.acting, capa=capa, expected_version=expected,
                             precondition=precondition, **data)
        return self.detail_response(capa)

    @extend_schema(request=ActionWriteSerializer, responses={201: ActionSerializer})
    @action(detail=True, methods=["post"])
    def actions(self, request: Request, pk: str | None = None) -> Response:
        capa = self.get_object()
        incoming = ActionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        owner = Membership.objects.filter(pk=data.pop("owner"), organization_id=self.acting.organization_id).first()
        if owner is None:
            raise serializers.ValidationError({"owner": ["Choose a member of your organization."]})
        created = services.action_add(membership=self.acting, capa=capa, owner=owner, **data)
        return Response(ActionSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EffectivenessPlanSerializer, responses=CapaDetailSerializer)
    @action(detail=True, methods=["put"])
    def effectiveness(self, request: Request, pk: str | None = None) -> Response:
        incoming = EffectivenessPlanSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self.detail_response(services.effectiveness_plan(membership=self.acting, capa=self.get_object(),
                                                        **incoming.validated_data))

    @extend_schema(request=EffectivenessResultSerializer, responses=CapaDetailSerializer)
    @action(detail=True, methods=["post"], url_path="effectiveness-result")
    def effectiveness_result(self, request: Request, pk: str | None = None) -> Response:
        incoming = EffectivenessResultSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self.detail_response(services.effectiveness_record(membership=self.acting, capa=self.get_object(),
                                                          **incoming.validated_data))

    @extend_schema(request=SignSerializer, responses=CapaDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        capa = self.get_object()
        incoming = SignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.capa_sign_close(request=request._request, membership=self.acting, capa=capa,
                                 password=incoming.validated_data["password"],
                                 otp=incoming.validated_data.get("otp"))
        return self.detail_response(capa)

    @extend_schema(request=SignWithReasonSerializer, responses=CapaDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        capa = self.get_object()
        incoming = SignWithReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.capa_cancel(request=request._request, membership=self.acting, capa=capa,
                             reason=incoming.validated_data["reason"], password=incoming.validated_data["password"],
                             otp=incoming.validated_data.get("otp"))
        return self.detail_response(capa)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        capa = self.get_object()
        if not can(self.acting, Capability.EXPORT):
            raise PermissionDenied(f"Your role ({self.acting.get_role_display()}) may not export records.")
        return pdf_response(membership=self.acting, record=capa, request=request._request, template="capa/pdf.html",
                            extra={"capa": capa, "actions": list(selectors.actions_of(capa=capa)),
                                   "record_label": str(capa)})


class CapaActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """CAPA actions; the owner of an action (or a QA author) completes it with evidence."""

    selector = selectors.action_list
    serializer_class = ActionSerializer
    write_capability = Capability.RECORD_OPERATIONS
    filterset_fields = ["capa"]

    @extend_schema(request=EvidenceSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        incoming = EvidenceSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = services.action_complete(membership=self.acting, action=self.get_object(),
                                        evidence=incoming.validated_data["evidence"])
        return Response(ActionSerializer(done).data)
