"""API twin of the audit-trail pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request

from part11 import export, selectors
from part11.filters import AuditEventFilter
from part11.models import AuditEvent
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


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Audit events of what the acting organization can see; filter like the page; export as CSV."""

    selector = selectors.event_list
    serializer_class = AuditEventSerializer
    read_capability = Capability.VIEW_AUDIT_TRAIL
    filterset_class = AuditEventFilter

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> Any:
        return export.csv_response(self.filter_queryset(self.get_queryset()))
