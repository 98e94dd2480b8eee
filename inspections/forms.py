"""Forms for the inspection pages, and the list's filter. The services validate everything that needs the database
(the site is the CMO's, scope lines are its partnerships, the affected lines are in scope, the state allows it),
and their refusals land on these fields by name."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms

from inspections.models import (
    Accountability,
    Authority,
    Document,
    ImpactAssessment,
    Inspection,
    InspectionType,
    LogEntry,
    Outcome,
    Visibility,
)
from inspections.taxonomy import Subpart, System
from qms.forms import PasswordForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})
#: A scope or affected line as a form value: "<partnership id>-<product id or 0>".
Choices = list[tuple[str, str]]


def _date(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(widget=DATE, required=required, label=label, help_text=help_text)


def _moment(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(widget=MOMENT, required=required, label=label, help_text=help_text,
                               input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


def line_key(partnership_id: int, product_id: int | None) -> str:
    return f"{partnership_id}-{product_id or 0}"


def parse_line(key: str) -> tuple[int, int | None]:
    partnership, product = (int(part) for part in key.split("-", 1))
    return partnership, product or None


class InspectionFilter(django_filters.FilterSet):
    """The list's filters: plain column filters (a reader filtering by what it cannot see simply finds nothing)."""

    state = django_filters.ChoiceFilter(choices=Inspection.State.choices, empty_label="Any status")
    authority = django_filters.ChoiceFilter(choices=Authority.choices, empty_label="Any authority")
    inspection_type = django_filters.ChoiceFilter(choices=InspectionType.choices, empty_label="Any type")
    site = django_filters.NumberFilter(field_name="site_id", label="Site")
    cmo = django_filters.NumberFilter(field_name="organization_id", label="CMO")

    class Meta:
        model = Inspection
        fields = ["state", "authority", "inspection_type", "site", "cmo"]


class HeaderForm(forms.Form):
    authority = forms.ChoiceField(choices=Authority.choices)
    authority_name = forms.CharField(max_length=200, required=False, label="Inspecting body",
                                     help_text="When the choice is generic, e.g. ANSM (France)")
    under_mra = forms.BooleanField(required=False, label="Performed under a Mutual Recognition Agreement")
    inspection_type = forms.ChoiceField(choices=InspectionType.choices, label="Type")
    announced_on = _date("Announced on", required=False)
    investigators = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                    help_text="One name per line")

    def clean_investigators(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["investigators"].splitlines() if line.strip()]


class ScopeFields(forms.Form):
    """The partnerships (and products) in scope; for a PAI/PLI, the application on the reviewed line."""

    scope = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False, label="In scope",
                                      help_text="Each sponsor sees the inspection through its own lines only")
    application_line = forms.ChoiceField(required=False, label="Application reviewed (PAI/PLI)",
                                         help_text="The line whose application a pre-approval inspection reviews")
    application_reference = forms.CharField(max_length=100, required=False, label="Application",
                                            help_text="e.g. NDA 212345, BLA 761234")

    def __init__(self, *args: Any, lines: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["scope"]).choices = lines
        cast(forms.ChoiceField, self.fields["application_line"]).choices = [("", "—"), *lines]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("application_line")
        if chosen and chosen not in (data.get("scope") or []):
            self.add_error("application_line", "Tick this line in scope too.")
        if chosen and not (data.get("application_reference") or "").strip():
            self.add_error("application_reference", "Name the application under review.")
        return data


class InspectionForm(HeaderForm, ScopeFields):
    site = forms.TypedChoiceField(coerce=int)
    started_on = _date("Started on", required=False, help_text="Leave empty while it is only announced")

    field_order = ["site", "authority", "authority_name", "under_mra", "inspection_type", "announced_on",
                   "started_on", "investigators", "scope", "application_line", "application_reference"]

    def __init__(self, *args: Any, sites: list[tuple[int, str]], lines: Choices, **kwargs: Any) -> None:
        super().__init__(*args, lines=lines, **kwargs)
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", "—"), *sites]


class EditForm(HeaderForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ScopeForm(ScopeFields):
    version = forms.IntegerField(widget=forms.HiddenInput)


class NoticeOfInspectionForm(forms.Form):
    received_at = _moment("Form 482 / notice received at (UTC)",
                          help_text="Each sponsor's notification clock counts from this moment")


class StartForm(forms.Form):
    started_on = _date("Started on")


class CloseOutForm(forms.Form):
    closed_out_on = _date("Close-out meeting on")


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices,
                                help_text="FDA: NAI, VAI or OAI; other authorities: compliant or non-compliant")
    outcome_on = _date("Outcome received on")
    note = forms.CharField(widget=TEXT, required=False)


class LogForm(forms.Form):
    kind = forms.ChoiceField(choices=LogEntry.Kind.choices)
    text = forms.CharField(widget=TEXT, label="What happened")
    who = forms.CharField(max_length=200, required=False, help_text="Who asked, who was interviewed, who provided it")


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=Document.Kind.choices)
    title = forms.CharField(max_length=200, required=False)
    shared = forms.BooleanField(required=False, label="Share with the sponsors in scope")
    file = forms.FileField()


class NotifyForm(forms.Form):
    event = forms.ChoiceField(label="Tell them of")
    message = forms.CharField(widget=TEXT, required=False, help_text="Added to the notice each sponsor receives")

    def __init__(self, *args: Any, events: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["event"]).choices = events


class AcknowledgeForm(forms.Form):
    note = forms.CharField(widget=TEXT, required=False)


class WarningLetterForm(forms.Form):
    issued_on = _date("Warning Letter issued on", help_text="The reply is due in 15 working days")


class RespondedForm(forms.Form):
    responded_at = _moment("Reply sent at (UTC)", required=False, help_text="Now, if left empty")


class ClosedOnForm(forms.Form):
    closed_on = _date("FDA close-out letter dated")


# --- Form 483 -----------------------------------------------------------------------------------------------------


class Form483Form(forms.Form):
    issued_on = _date("Issued on", help_text="The response is due 15 US business days later")
    update_interval_days = forms.IntegerField(min_value=1, max_value=180, initial=30,
                                              label="Periodic updates every (days)")


class AmendForm(forms.Form):
    issued_on = _date("Amended 483 issued on", help_text="Restarts the 15-business-day response clock")
    reason = forms.CharField(widget=TEXT, help_text="Recorded in the audit trail")
    version = forms.IntegerField(widget=forms.HiddenInput)


class ObservationForm(forms.Form):
    number = forms.IntegerField(min_value=1, required=False, help_text="The next number, if left empty")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="As the 483 states it")
    cited_regulation = forms.CharField(max_length=100, required=False, label="Cited regulation",
                                       help_text="e.g. 21 CFR 211.67(a): the category is suggested from it")
    subpart = forms.ChoiceField(choices=[("", "As suggested"), *Subpart.choices], required=False,
                                label="21 CFR 211 subpart")
    system = forms.ChoiceField(choices=[("", "As suggested"), *System.choices], required=False,
                               label="Six-system category")
    accountability = forms.ChoiceField(choices=Accountability.choices, initial=Accountability.CMO)
    accountability_rationale = forms.CharField(widget=TEXT, required=False, label="Rationale",
                                               help_text="Needed when the sponsor owns or shares the cause")
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.SITE_WIDE)
    affected = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False,
                                         label="Affected partnerships and products")

    def __init__(self, *args: Any, lines: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["affected"]).choices = lines


class ObservationEditForm(ObservationForm):
    version = forms.IntegerField(widget=forms.HiddenInput, help_text="The 483's version")


class ResponseForm(forms.Form):
    commitment = forms.CharField(widget=TEXT)
    actions = forms.CharField(widget=TEXT, help_text="Taken and planned")
    target_on = _date("Target date", required=False)
    evidence = forms.CharField(widget=TEXT, required=False, help_text="Provided with the response")
    version = forms.IntegerField(widget=forms.HiddenInput, help_text="The 483's version")


class ImpactForm(forms.Form):
    partnership = forms.TypedChoiceField(coerce=int, label="Sponsor")
    impact = forms.ChoiceField(choices=ImpactAssessment.Impact.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(widget=TEXT)

    def __init__(self, *args: Any, sponsors: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["partnership"]).choices = sponsors


class CapaForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


class CommentForm(forms.Form):
    body = forms.CharField(widget=TEXT, label="Comment")
    sponsor = forms.TypedChoiceField(coerce=int, required=False, label="In the thread of",
                                     help_text="The CMO answers one participating sponsor")

    def __init__(self, *args: Any, sponsors: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sponsors is None:
            del self.fields["sponsor"]
        else:
            cast(forms.ChoiceField, self.fields["sponsor"]).choices = sponsors


class SignForm(PasswordForm):
    """The review or approval signature of the whole response."""


class SubmitForm(forms.Form):
    submitted_at = _moment("Sent to FDA at (UTC)", required=False,
                           help_text="Now, if left empty; a time after the due time is recorded as late")


class UpdateForm(forms.Form):
    summary = forms.CharField(widget=TEXT, help_text="What the update reported to FDA")
    submitted_at = _moment("Sent at (UTC)", required=False, help_text="Now, if left empty")


class CommitmentCloseForm(forms.Form):
    closed_on = _date("Closed on")
    evidence = forms.CharField(widget=TEXT, help_text="The evidence the commitment is met")
