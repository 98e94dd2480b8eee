"""HTML forms. They parse, validate and display; saving goes through ``tenants.services``.

The views hand each form an instance that already carries its owner organization (a copy, for edits), so the
model's validators and per-organization unique constraints report on the right field before the service runs.
"""

from __future__ import annotations

from typing import Any

from django import forms

from tenants.models import Membership, Product, Site
from tenants.permissions import Role


class VersionedFormMixin(forms.Form):
    """Carries the version the editor read (the service refuses to save over a newer one) and, for a change to an
    existing record, the reason for it (kept in the audit trail)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label="Reason for change", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required when changing an existing record; kept in the audit trail.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = instance.version
        else:
            del self.fields["reason"]


class SiteForm(VersionedFormMixin, forms.ModelForm):
    activities = forms.MultipleChoiceField(
        choices=Site.Activity.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Site
        fields = ["name", "fei_number", "country", "address", "activities", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class ProductForm(VersionedFormMixin, forms.ModelForm):
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


class GrantForm(forms.Form):
    partnership: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, help_text="Only partnerships where you are the sponsor."
    )
    grantee_username = forms.CharField(label="Grantee username", max_length=150)
    grantee_organization = forms.SlugField(label="Grantee organization (slug)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Kept with the grant: who asked, for which audit or visit.")
    starts_at = forms.DateTimeField(label="Starts (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    expires_at = forms.DateTimeField(label="Expires (UTC)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, partnerships: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships  # type: ignore[attr-defined]  # a ModelChoiceField


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the access ends early.")


class UploadForm(forms.Form):
    file = forms.FileField(help_text="PDF, PNG, JPEG, CSV, XLSX or DOCX; the type is checked from the content.")


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    first_name = forms.CharField(required=False, help_text="Needed when the person has no account yet.")
    last_name = forms.CharField(required=False)
    role = forms.ChoiceField(choices=Role.choices)


class SignForm(forms.Form):
    """Re-enter the password (and second-factor code) for every signature (21 CFR 11.200(a))."""

    step = forms.ChoiceField(label="Signature")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Your password, entered again for this signature.")
    otp = forms.CharField(required=False, label="Second-factor code", max_length=10,
                          help_text="Only if you use an authenticator app.")

    def __init__(self, *args: Any, steps: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [(rule.step, f"{rule.label} — meaning: {rule.meaning}")  # type: ignore[attr-defined]
                                       for rule in steps]
