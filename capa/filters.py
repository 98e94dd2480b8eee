"""One filter definition for the CAPA list page and the API."""

from __future__ import annotations

import django_filters

from capa.models import Capa


class CapaFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Capa.State.choices, empty_label="Any status")
    source = django_filters.ChoiceFilter(choices=Capa.Source.choices, empty_label="Any source")
    effectiveness = django_filters.ChoiceFilter(choices=Capa.Effectiveness.choices, empty_label="Any check")
    deviation = django_filters.NumberFilter(field_name="source_deviation_id", label="Deviation")

    class Meta:
        model = Capa
        fields = ["state", "source", "effectiveness", "deviation"]
