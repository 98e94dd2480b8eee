"""Forms for the CAPA pages; the services validate everything that needs the database."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from capa.models import Capa, CapaAction

DATE = forms.DateInput(attrs={"type": "date"})


class CapaForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="The problem and the intended "
                                  "correction")
    source = forms.ChoiceField(choices=Capa.Source.choices)
    source_deviation = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Deviation")
    source_reference = forms.CharField(max_length=200, required=False,
                                       help_text="Audit finding, 483 observation or complaint reference")

    def __init__(self, *args: Any, deviations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source_deviation"]).choices = [("", "—"), *deviations]


class CapaEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    source_reference = forms.CharField(max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(choices=CapaAction.Kind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.TypedChoiceField(coerce=int)
    due_date = forms.DateField(widget=DATE)

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = owners


class CompleteForm(forms.Form):
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="What shows the action was done")


class EffectivenessPlanForm(forms.Form):
    criteria = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="What will show the CAPA worked, e.g. no recurrence in 20 batches")
    due_date = forms.DateField(widget=DATE, label="Check due")
    close_before_check = forms.CharField(
        required=False, max_length=500, label="Procedure allowing closure before the check",
        help_text="Only if your procedure lets the CAPA close while the check is scheduled (e.g. SOP-QA-014 §6.3)")


class EffectivenessResultForm(forms.Form):
    result = forms.ChoiceField(choices=[("passed", "Passed"), ("failed", "Failed")], widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="What the check found")
