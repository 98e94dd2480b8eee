"""API twin of the audit-trail pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from part11 import export, selectors, signatures
from part11.filters import AuditEventFilter
from part11.models import AuditEvent, AuditReview, Signature
from tenants.permissions import Capability
from tenants.scoping import ScopedViewSet


class AuditEventSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor_name", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "organization_id", "seq", "record_table", "record_type", "record_id", "action", "changes",
                  "actor", "actor_user_id", "actor_membership_id", "request_id", "reason", "occurred_at",
                  "prev_hash", "hash"]

    def get_record_type(self, obj: AuditEvent) -> str:
        return selectors.RECORD_TYPES.get(obj.record_table, obj.record_table)


class RecordRefSerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=signatures.SIGNABLE_CHOICES)
    record_id = serializers.IntegerField()


class AuditReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditReview
        fields = ["id", "record_table", "record_id", "reviewed_through_event", "reviewed_at"]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Audit events of what the acting organization can see; filter like the page; export as CSV."""

    selector = selectors.event_list
    serializer_class = AuditEventSerializer
    read_capability = Capability.VIEW_AUDIT_TRAIL
    filterset_class = AuditEventFilter

    action_capabilities = {"reviewed": Capability.REVIEW_QUALITY_RECORDS}

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> Any:
        return export.csv_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(request=RecordRefSerializer, responses={201: AuditReviewSerializer})
    @action(detail=False, methods=["post"])
    def reviewed(self, request: Request) -> Response:
        """Mark a record's audit trail reviewed up to its latest change (required before approving it)."""
        incoming = RecordRefSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        signable = signatures.signable_for(incoming.validated_data["record_type"])
        record = get_object_or_404(signable.selector(membership=self.acting), pk=incoming.validated_data["record_id"])
        review = signatures.mark_audit_trail_reviewed(membership=self.acting, record=record)
        return Response(AuditReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class SignatureSerializer(serializers.ModelSerializer):
    manifestation = serializers.SerializerMethodField()
    is_void = serializers.BooleanField(read_only=True)

    class Meta:
        model = Signature
        fields = ["id", "record_table", "record_id", "step", "meaning", "printed_name", "signed_at", "content_hash",
                  "voided_at", "void_reason", "is_void", "manifestation"]

    def get_manifestation(self, obj: Signature) -> str:
        text = (f"Signed by {obj.printed_name} on {obj.signed_at.astimezone(dt.UTC):%d %b %Y %H:%M:%S} UTC — "
                f"{obj.get_meaning_display()}")
        return text + (f" (VOID: {obj.void_reason})" if obj.is_void else "")


class SignRequestSerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=signatures.SIGNABLE_CHOICES)
    record_id = serializers.IntegerField()
    step = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(required=False, allow_blank=True)


class VerificationSerializer(serializers.Serializer):
    matches = serializers.BooleanField()
    verdict = serializers.CharField()
    current_hash = serializers.CharField()
    signature = SignatureSerializer()


class SignatureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Electronic signatures on records the organization can see; sign (password re-entered) and verify."""

    selector = selectors.signature_list
    serializer_class = SignatureSerializer
    write_capability = Capability.VIEW  # the signature rule of each step decides who may sign (part11.signatures)
    filterset_fields = ["record_table", "record_id", "meaning"]

    @extend_schema(request=SignRequestSerializer, responses={201: SignatureSerializer})
    def create(self, request: Request) -> Response:
        incoming = SignRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        signable = signatures.signable_for(data["record_type"])
        record = get_object_or_404(signable.selector(membership=self.acting), pk=data["record_id"])
        signature = signatures.sign(request=request._request, membership=self.acting, record=record,
                                    step=data["step"], password=data["password"], otp=data.get("otp") or None)
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=VerificationSerializer)
    @action(detail=True, methods=["get"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        signature = self.get_object()
        signable = signatures.signable_for(signature.record_table)
        record = get_object_or_404(signable.selector(membership=self.acting), pk=signature.record_id)
        result = signatures.verify(signature, record)
        return Response(VerificationSerializer({"matches": result.matches, "verdict": result.verdict,
                                                "current_hash": result.current_hash, "signature": signature}).data)


class SignSerializer(serializers.Serializer):
    """A signature's re-entered credentials (21 CFR 11.200(a)); every app's signing action takes this."""

    password = serializers.CharField(style={"input_type": "password"})
    otp = serializers.CharField(required=False, allow_blank=True)


class SignWithReasonSerializer(SignSerializer):
    """A signed action over its recorded reason (cancel)."""

    reason = serializers.CharField()
