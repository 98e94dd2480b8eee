"""One filter definition for the batch list, the review queue, their CSV export and the API.

The exception filter reads the annotations of ``selectors.batch_list``; sponsor, CMO, product and site filters are
plain column filters on indexed foreign keys (a reader filtering by what it cannot see simply finds nothing).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from agreements.catalogue import ReleaseModel
from batches.models import Batch

#: Yes / no / any, rather than django-filter's "Unknown" for "no filter".
ANY_YES_NO = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


class BatchFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Batch.State.choices, empty_label="Any status")
    product = django_filters.NumberFilter(field_name="product_id", label="Product")
    site = django_filters.NumberFilter(field_name="site_id", label="Site")
    sponsor = django_filters.NumberFilter(field_name="sponsor_id", label="Sponsor")
    cmo = django_filters.NumberFilter(field_name="organization_id", label="CMO")
    release_model = django_filters.ChoiceFilter(choices=ReleaseModel.choices, empty_label="Any release model")
    exceptions = django_filters.BooleanFilter(field_name="has_exceptions", label="Exceptions present",
                                              widget=ANY_YES_NO)
    open_deviations = django_filters.BooleanFilter(method="filter_open_deviations", label="Open deviation",
                                                   widget=ANY_YES_NO)
    q = django_filters.CharFilter(method="filter_text", label="Lot number contains")

    class Meta:
        model = Batch
        fields = ["state", "product", "site", "sponsor", "cmo", "release_model", "exceptions", "open_deviations",
                  "q"]

    def filter_open_deviations(self, queryset: QuerySet[Batch], name: str, value: bool | None) -> QuerySet[Batch]:
        if value is None:
            return queryset
        return queryset.filter(Q(open_deviation_count__gt=0) if value else Q(open_deviation_count=0))

    def filter_text(self, queryset: QuerySet[Batch], name: str, value: str) -> QuerySet[Batch]:
        return queryset.filter(Q(lot_number__icontains=value) | Q(product__code__icontains=value)) if value else (
            queryset)
