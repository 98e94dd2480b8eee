"""One filter definition for the audit-trail page, its CSV export and the API."""

import django_filters

from part11.models import AuditEvent
from part11.selectors import RECORD_TYPES


class AuditEventFilter(django_filters.FilterSet):
    record_type = django_filters.ChoiceFilter(field_name="record_table", choices=sorted(RECORD_TYPES.items()),
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

    def filter_actor(self, queryset, name, value):  # type: ignore[no-untyped-def]
        from django.db.models import Q

        from tenants.models import User

        return queryset.filter(actor_user_id__in=User.objects.filter(
            Q(username__iexact=value) | Q(email__iexact=value)).values("pk"))
