"""Forms for the agreement pages; the services validate everything that needs the database."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from agreements.catalogue import ActivitySpec, ChangeClass
from agreements.models import QualityAgreement
from qms.forms import PasswordForm


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    """Set the choices of a choice field that depend on the acting membership."""
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class TermsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    change_sponsor_approval = forms.MultipleChoiceField(choices=ChangeClass.choices, required=False,
                                                        widget=forms.CheckboxSelectMultiple,
                                                        label="Change classes needing sponsor approval")
    change_notify_only = forms.MultipleChoiceField(choices=ChangeClass.choices, required=False,
                                                   widget=forms.CheckboxSelectMultiple,
                                                   label="Change classes needing notification only")

    class Meta:
        model = QualityAgreement
        fields = ["title", "effective_from", "review_interval_months", "release_model", "deviation_closure_days",
                  "batch_review_days", "change_sponsor_approval", "change_notify_only", "change_notice_lead_days",
                  "audit_right", "audit_cadence_months"]
        widgets = {"effective_from": forms.DateInput(attrs={"type": "date"})}


class SectionForm(forms.Form):
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 16}), strip=False,
                           help_text="Markdown: ## headings, - lists, **bold**, | tables |")
    version = forms.IntegerField(widget=forms.HiddenInput)


class StartForm(forms.Form):
    partnership = forms.ChoiceField(label="Partnership")
    effective_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text="Can be set later, before review")

    def __init__(self, *args: Any, partnerships: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "partnership", [(p.pk, f"{p.sponsor.name} ↔ {p.cmo.name}") for p in partnerships])


class OverrideForm(PasswordForm):
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                    help_text="Why approval may go ahead despite the failed checks (signed, audited)")

    field_order = ["justification", "password", "otp"]


class ConsentForm(forms.Form):
    partnership = forms.ChoiceField()
    subcontractor = forms.CharField(max_length=200)
    site = forms.CharField(max_length=200)
    country = forms.CharField(max_length=2, help_text="Two-letter ISO code, e.g. DE")
    activities = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, partnerships: Any = (), activities: tuple[ActivitySpec, ...] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "partnership", [(p.pk, f"{p.sponsor.name} ↔ {p.cmo.name}") for p in partnerships])
        _choices(self, "activities", [(a.code, a.name) for a in activities])


class DataSharingForm(forms.Form):
    terms = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}),
                            help_text="One per line: data | format | frequency")


class ActivityForm(forms.Form):
    code = forms.SlugField(max_length=50, help_text="Short identifier, e.g. media-fill")
    name = forms.CharField(max_length=200)
    critical = forms.BooleanField(required=False, help_text="A critical activity needs a single accountable party")
