"""REST API for clocks: deadlines (mine and all visible), notifications, delivery failures, closure days, calendars.

Thin: reads through ``clocks.selectors`` (via ``ScopedViewSet``), writes through ``clocks.services``; the pages in
``clocks.views`` use the same two modules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clocks import selectors, services
from clocks.calendars import SPECS, CalendarCode
from clocks.models import STAGE_LABELS, ClosureDay, Deadline, DeadlineAudience, DeadlineStage, Notification
from part11.models import record_page_url
from qms.versioning import expected_version_from
from tenants.api import ReasonSerializer
from tenants.context import resolve_acting_membership
from tenants.permissions import Capability
from tenants.scoping import NO_MEMBERSHIP, ScopedViewSet

# --- Serializers ----------------------------------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlineStage
        fields = ["kind", "label", "fire_at", "state", "fired_at"]


class AudienceSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.slug")

    class Meta:
        model = DeadlineAudience
        fields = ["organization", "roles"]


class DeadlineSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="organization.slug", read_only=True)
    stage = serializers.SerializerMethodField(help_text="Colour-coding stage: on_track, due_soon, overdue, met, "
                                                        "met_late or cancelled")
    stage_label = serializers.SerializerMethodField()
    record_url = serializers.SerializerMethodField()
    completed_by = serializers.CharField(source="completed_by.printed_name", default=None, read_only=True)

    class Meta:
        model = Deadline
        fields = ["id", "title", "owner", "record_table", "record_id", "record_url", "subject_label", "rule_code",
                  "amount", "unit", "calendar", "time_zone", "start_event", "starts_at", "due_at", "original_due_at",
                  "rule_text", "extension_note", "state", "stage", "stage_label", "completed_at", "completed_late",
                  "completed_by", "cancel_reason", "extendable", "closed_by_hand", "version"]
        read_only_fields = fields

    def get_stage(self, obj: Deadline) -> str:
        return obj.stage_at(self.context.get("now"))

    def get_stage_label(self, obj: Deadline) -> str:
        return STAGE_LABELS[self.get_stage(obj)]

    def get_record_url(self, obj: Deadline) -> str | None:
        return record_page_url(obj.record_table, obj.record_id)


class DeadlineDetailSerializer(DeadlineSerializer):
    stages = serializers.SerializerMethodField()
    audience = serializers.SerializerMethodField()

    class Meta(DeadlineSerializer.Meta):
        fields = [*DeadlineSerializer.Meta.fields, "stages", "audience"]
        read_only_fields = fields

    @extend_schema_field(StageSerializer(many=True))
    def get_stages(self, obj: Deadline) -> Any:
        return StageSerializer(selectors.deadline_stages(deadline=obj), many=True).data

    @extend_schema_field(AudienceSerializer(many=True))
    def get_audience(self, obj: Deadline) -> Any:
        return AudienceSerializer(selectors.deadline_audience(deadline=obj), many=True).data


class ExtendSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    reason = serializers.CharField()
    version = serializers.IntegerField(required=False)


class NotificationSerializer(serializers.ModelSerializer):
    link = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "level", "subject", "body", "deadline", "record_table", "record_id", "link", "created_at",
                  "read_at", "email_state", "emailed_at"]
        read_only_fields = fields

    def get_link(self, obj: Notification) -> str | None:
        from clocks.delivery import notification_link

        return notification_link(obj)


class FailureSerializer(NotificationSerializer):
    recipient = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")

    class Meta(NotificationSerializer.Meta):
        fields = [*NotificationSerializer.Meta.fields, "recipient", "email", "email_attempts", "last_error"]
        read_only_fields = fields


class ClosureDaySerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.printed_name", read_only=True)

    class Meta:
        model = ClosureDay
        fields = ["id", "calendar", "date", "reason", "is_active", "withdrawn_reason", "created_by", "created_at"]
        read_only_fields = ["is_active", "withdrawn_reason", "created_by", "created_at"]
        validators: list[Any] = []  # the service checks uniqueness per organization and calendar


# --- Filters ---------------------------------------------------------------------------------------------------


class DeadlineFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=Deadline.State.choices)
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    record_table = django_filters.CharFilter()
    record_id = django_filters.NumberFilter()
    rule_code = django_filters.CharFilter()

    class Meta:
        model = Deadline
        fields = ["state", "due_before", "due_after", "record_table", "record_id", "rule_code"]


# --- Viewsets -------------------------------------------------------------------------------------------------


class DeadlineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Deadlines the organization owns or is told about; ``/mine/`` lists those its role must act on."""

    selector = selectors.deadline_list
    filterset_class = DeadlineFilter
    ordering_fields = ["due_at", "created_at"]
    search_fields = ["title", "subject_label"]
    action_capabilities = {"extend": Capability.APPROVE_QUALITY_RECORDS,
                           "complete": Capability.AUTHOR_QUALITY_RECORDS,
                           "cancel": Capability.APPROVE_QUALITY_RECORDS}

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return DeadlineDetailSerializer if self.action in ("retrieve", "extend", "complete", "cancel") \
            else DeadlineSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    @action(detail=False, methods=["get"])
    def mine(self, request: Request) -> Response:
        queryset = self.filter_queryset(selectors.my_deadlines(membership=self.acting))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ExtendSerializer, responses=DeadlineDetailSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, pk: str | None = None) -> Response:
        """Move the due date later (an approved extension); needs the version read (If-Match or ``version``)."""
        deadline = self.get_object()
        incoming = ExtendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        expected, precondition = expected_version_from(request)
        deadline = services.deadline_extend(
            membership=self.acting, deadline=deadline, due_date=incoming.validated_data["due_date"],
            reason=incoming.validated_data["reason"], expected_version=expected, precondition=precondition)
        return Response(self.get_serializer(deadline).data)

    @extend_schema(request=None, responses=DeadlineDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark met, for deadlines whose rule is closed by hand (others close with their record's workflow)."""
        deadline = services.deadline_complete(deadline=self.get_object(), membership=self.acting)
        return Response(self.get_serializer(deadline).data)

    @extend_schema(request=ReasonSerializer, responses=DeadlineDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        deadline = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        deadline = services.deadline_cancel(deadline=deadline, membership=self.acting,
                                            reason=incoming.validated_data["reason"])
        return Response(self.get_serializer(deadline).data)


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The caller's own notifications (the notification centre), newest first."""

    selector = selectors.notification_list
    serializer_class = NotificationSerializer
    filterset_fields = ["level"]
    # Marking one's own notifications read is not a quality-record write: every role may do it.
    write_capability = Capability.VIEW

    @extend_schema(responses=UnreadSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(membership=self.acting)})

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = services.notification_mark_read(membership=self.acting, notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=UnreadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        services.notification_mark_all_read(membership=self.acting)
        return Response({"unread": 0})


class DeliveryFailureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """E-mails to the organization's members that failed for good; an org admin retries them."""

    selector = selectors.delivery_failures
    serializer_class = FailureSerializer
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        notification = services.delivery_retry(membership=self.acting, notification=self.get_object())
        return Response(NotificationSerializer(notification).data)


class ClosureDayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Days the organization's clocks do not count (per calendar); adding or withdrawing one moves open clocks."""

    selector = selectors.closure_list
    serializer_class = ClosureDaySerializer
    write_capability = Capability.MANAGE_MASTER_DATA
    filterset_fields = ["calendar", "is_active"]

    def create(self, request: Request) -> Response:
        incoming = ClosureDaySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        closure = services.closure_add(membership=self.acting, **incoming.validated_data)
        return Response(ClosureDaySerializer(closure).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=ClosureDaySerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        closure = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        closure = services.closure_withdraw(membership=self.acting, closure=closure,
                                            reason=incoming.validated_data["reason"])
        return Response(ClosureDaySerializer(closure).data)


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()
    closure = serializers.BooleanField(help_text="A closure day of your organization, not a public holiday")


class CalendarSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    year = serializers.IntegerField()
    days = CalendarDaySerializer(many=True)


class CalendarView(APIView):
    """A calendar's non-working days for a year: public holidays (observed) plus your organization's closures."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT)], responses=CalendarSerializer)
    def get(self, request: Request, code: str) -> Response:
        membership = resolve_acting_membership(request)
        if membership is None:
            raise exceptions.PermissionDenied(NO_MEMBERSHIP)
        if code not in SPECS:
            raise exceptions.NotFound(f"No calendar {code!r}; calendars: {', '.join(CalendarCode.values)}.")
        try:
            year = int(request.query_params.get("year") or dt.date.today().year)
        except ValueError:
            raise serializers.ValidationError({"year": ["A year is a whole number, e.g. 2026."]}) from None
        if not 1990 <= year <= 2100:
            raise serializers.ValidationError({"year": ["Choose a year between 1990 and 2100."]})
        return Response(CalendarSerializer(selectors.calendar_year(membership=membership, code=code, year=year)).data)
