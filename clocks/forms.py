"""Forms for the clocks pages; validation that needs the database is the services' job."""

from __future__ import annotations

from django import forms

from clocks.calendars import CalendarCode


class ExtendForm(forms.Form):
    due_date = forms.DateField(label="New due date", widget=forms.DateInput(attrs={"type": "date"}),
                               help_text="A business day on the deadline's calendar, later than the current one")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Who approved the extension and why; recorded in the audit trail")
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded in the audit trail")


class ClosureForm(forms.Form):
    calendar = forms.ChoiceField(choices=CalendarCode.choices)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=200, help_text="e.g. 'Executive Order: federal offices closed'")
