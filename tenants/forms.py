"""HTML forms. They parse, validate and display; saving goes through ``tenants.services``.

The views hand each form an instance that already carries its owner organization (a copy, for edits), so the
model's validators and per-organization unique constraints report on the right field before the service runs.
"""

from __future__ import annotations

from django import forms

from tenants.models import Membership, Product, Site


class SiteForm(forms.ModelForm):
    activities = forms.MultipleChoiceField(
        choices=Site.Activity.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Site
        fields = ["name", "fei_number", "country", "address", "activities", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class ProductForm(forms.ModelForm):
    markets = forms.MultipleChoiceField(
        choices=Product.Market.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Product
        fields = ["code", "name", "dosage_form", "modality", "markets", "is_active"]


class MemberForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "is_active"]
