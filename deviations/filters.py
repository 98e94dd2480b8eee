"""One filter definition for the deviation list page, its CSV export and the API.

Sponsor and product filters go through the lines the member can see (an EXISTS on the indexed
``line_sponsor_deviation``), so a sponsor filtering by another sponsor finds nothing rather than a hint.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from deviations.models import AffectedProduct, Category, Classification, ConsistencyFlag, Deviation


class DeviationFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Deviation.State.choices, empty_label="Any status")
    classification = django_filters.ChoiceFilter(choices=Classification.choices, empty_label="Any classification")
    category = django_filters.ChoiceFilter(choices=Category.choices, empty_label="Any category")
    site = django_filters.NumberFilter(field_name="site_id", label="Site")
    sponsor = django_filters.NumberFilter(method="filter_sponsor", label="Sponsor")
    product = django_filters.NumberFilter(method="filter_product", label="Product")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Closure overdue")
    repeat = django_filters.BooleanFilter(field_name="is_repeat", label="Repeat")
    q = django_filters.CharFilter(method="filter_text", label="Number or title contains")

    class Meta:
        model = Deviation
        fields = ["state", "classification", "category", "site", "sponsor", "product", "overdue", "repeat", "q"]

    def _line(self, queryset: QuerySet[Deviation], **lookup: int) -> QuerySet[Deviation]:
        return queryset.filter(Exists(AffectedProduct.objects.filter(deviation=OuterRef("pk"), **lookup)))

    def filter_sponsor(self, queryset: QuerySet[Deviation], name: str, value: int) -> QuerySet[Deviation]:
        return self._line(queryset, sponsor_id=value)

    def filter_product(self, queryset: QuerySet[Deviation], name: str, value: int) -> QuerySet[Deviation]:
        return self._line(queryset, product_id=value)

    def filter_overdue(self, queryset: QuerySet[Deviation], name: str, value: bool | None) -> QuerySet[Deviation]:
        if value is None:
            return queryset
        overdue = Q(closure_deadline__completed_at__isnull=True, closure_deadline__due_at__lt=timezone.now(),
                    state__in=[Deviation.State.OPEN, Deviation.State.UNDER_INVESTIGATION,
                               Deviation.State.PENDING_APPROVAL])
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_text(self, queryset: QuerySet[Deviation], name: str, value: str) -> QuerySet[Deviation]:
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)) if value else queryset


class FlagFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ConsistencyFlag.State.choices, empty_label="Any state")

    class Meta:
        model = ConsistencyFlag
        fields = ["state"]
