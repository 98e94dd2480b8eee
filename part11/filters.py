"""One filter definition for the audit-trail page, its CSV export and the API."""

import django_filters
from django.db.models import QuerySet

from part11.models import RECORD_TYPE_CHOICES, AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    record_type = django_filters.ChoiceFilter(field_name="record_table", choices=RECORD_TYPE_CHOICES,
                                              label="Record type", empty_label="Any record type")
    record_id = django_filters.NumberFilter(label="Record id")
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, empty_label="Any action")
    actor = django_filters.CharFilter(method="filter_actor", label="User (username or e-mail)")
    since = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label="From (UTC date)")
    until = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label="To (UTC date)")
    reason = django_filters.CharFilter(lookup_expr="icontains", label="Reason contains")
    ordering = django_filters.OrderingFilter(fields=(("occurred_at", "occurred_at"), ("seq", "seq")))

    class Meta:
        model = AuditEvent
        fields = ["record_type", "record_id", "action", "actor", "since", "until", "reason"]

    def filter_queryset(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """A record's history includes the signing and voiding of its signatures."""
        from django.db.models import Q

        from part11.models import Signature

        data = self.form.cleaned_data
        table, record_id = data.get("record_type"), data.get("record_id")
        if not (table and record_id is not None):
            return super().filter_queryset(queryset)
        signatures = Signature.objects.filter(record_table=table, record_id=record_id).values("pk")
        queryset = queryset.filter(Q(record_table=table, record_id=record_id)
                                   | Q(record_table="part11_signature", record_id__in=signatures))
        for name, value in data.items():
            if name not in {"record_type", "record_id"}:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_actor(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        from django.db.models import Q

        from tenants.models import User

        return queryset.filter(actor_user_id__in=User.objects.filter(
            Q(username__iexact=value) | Q(email__iexact=value)).values("pk"))
