"""Forms every app's pages share: a reason for a change, and a signature's re-entered credentials."""

from __future__ import annotations

from django import forms


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded in the audit trail")


class PasswordForm(forms.Form):
    """Re-enter the password (and second-factor code) for a signature (21 CFR 11.200(a))."""

    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Your password, entered again for this signature.")
    otp = forms.CharField(required=False, label="Second-factor code", max_length=10,
                          help_text="Only if you use an authenticator app.")


class ReasonPasswordForm(PasswordForm):
    """A signed action that needs its reason (cancel): the signature covers the recorded reason."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded and signed")

    field_order = ["reason", "password", "otp"]
