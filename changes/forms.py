"""Forms for the change-control pages; the services validate everything that needs the database (products of a
partnership, sites, states, the questionnaire, filing categories), and their refusals land on these fields by name.

The impact form is built from ``changes.questionnaire`` for the change's type, one field per question, named by the
question's key; the service names its errors ``answers.<key>``, which the page maps back onto these fields.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from agreements.catalogue import ChangeClass
from changes import questionnaire
from changes.filing_rules import RULE_MARKET, FilingCategory
from changes.models import AffectedProduct, ChangeDocument, ChangeRequest, FilingAssessment, RiskRating
from qms.forms import PasswordForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO = [("yes", "Yes"), ("no", "No")]


def _date(label: str, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(widget=DATE, required=required, label=label, help_text=help_text)


class ChangeFilter(django_filters.FilterSet):
    """The change list's filters. Product and partnership ask the lines, which row-level security limits to the
    reader's own: a sponsor filtering by another sponsor's product or partnership finds nothing."""

    state = django_filters.ChoiceFilter(choices=ChangeRequest.State.choices, empty_label="Any status")
    change_type = django_filters.ChoiceFilter(choices=ChangeClass.choices, empty_label="Any type")
    site = django_filters.NumberFilter(field_name="site_id", label="Site")
    product = django_filters.NumberFilter(method="filter_line", label="Product")
    partnership = django_filters.NumberFilter(method="filter_line", label="Partnership")
    q = django_filters.CharFilter(method="filter_text", label="Number or title contains")

    class Meta:
        model = ChangeRequest
        fields = ["state", "change_type", "site", "product", "partnership", "q"]

    def filter_line(self, queryset: QuerySet[ChangeRequest], name: str, value: int | None) -> QuerySet[ChangeRequest]:
        if value is None:
            return queryset
        return queryset.filter(Exists(AffectedProduct.objects.filter(change=OuterRef("pk"), **{f"{name}_id": value})))

    def filter_text(self, queryset: QuerySet[ChangeRequest], name: str, value: str) -> QuerySet[ChangeRequest]:
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)) if value else queryset


class HeaderForm(forms.Form):
    """What the change is, where and when; the affected products name the partnerships (one sponsor each)."""

    title = forms.CharField(max_length=200)
    change_type = forms.ChoiceField(choices=[("", "—"), *ChangeClass.choices], label="Change type")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why the change is needed")
    products = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple,
                                              label="Affected products",
                                              help_text="Each product belongs to one sponsor, which sees only its own")
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                  help_text="Your site where the change is made")
    proposed_implementation_date = _date("Proposed implementation", required=True)
    permanent = forms.TypedChoiceField(choices=[("permanent", "Permanent"), ("temporary", "Temporary")],
                                       coerce=lambda v: v == "permanent", widget=forms.RadioSelect,
                                       initial="permanent", label="Duration")
    temporary_until = _date("Temporary until", help_text="A temporary change: the date it ends")

    def __init__(self, *args: Any, products: list[tuple[int, str]], sites: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["products"]).choices = products
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", "—"), *sites]


class EditForm(HeaderForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ImpactForm(forms.Form):
    """The questionnaire for one change type, with the risk rating and its rationale."""

    risk_rating = forms.ChoiceField(choices=[("", "—"), *RiskRating.choices], label="Risk rating", required=False)
    risk_rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Risk rationale",
                                     required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, change_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questionnaire.questions_for(change_type)
        for question in self.questions:
            choices = question.choices if question.kind == "choice" else YES_NO
            self.fields[question.key] = forms.ChoiceField(
                choices=choices, widget=forms.RadioSelect, required=False, label=question.label,
                help_text=question.help)
        self.order_fields([q.key for q in self.questions] + ["risk_rating", "risk_rationale", "version"])

    @staticmethod
    def initial_for(change: ChangeRequest) -> dict[str, Any]:
        answers = {key: ("yes" if value is True else "no" if value is False else value)
                   for key, value in (change.answers or {}).items()}
        return {**answers, "risk_rating": change.risk_rating, "risk_rationale": change.risk_rationale,
                "version": change.version}

def answers_from(change_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The impact form's answers as the service takes them (yes/no as booleans); an unanswered question is left out,
    so the service names it."""
    out: dict[str, Any] = {}
    for question in questionnaire.questions_for(change_type):
        value = data.get(question.key)
        if value:
            out[question.key] = (value == "yes") if question.kind == "bool" else value
    return out


class FilingDecisionForm(forms.Form):
    """The product owner's confirmation (the suggested category) or override (another one, with the reason)."""

    category = forms.ChoiceField(label="Filing category")
    override_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                      label="Reason for overriding", help_text="Only when you choose another "
                                                                               "category than the suggestion")

    def __init__(self, *args: Any, assessment: FilingAssessment, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"category": assessment.suggested_category})
        super().__init__(*args, **kwargs)
        market = RULE_MARKET.get(assessment.market, "EU")
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            (value, FilingCategory(value).label) for value in FilingCategory.for_market(market)]


class AgencyApprovalForm(forms.Form):
    approved_on = _date("Agency approved on", required=True)
    reference = forms.CharField(max_length=100, required=False, label="Agency reference",
                                help_text="e.g. the supplement or procedure number")


class NotifyForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="Added to the notification each sponsor receives")


class SponsorDecisionForm(PasswordForm):
    """The sponsor's signed approval or rejection (a rejection needs its reason: the service says so)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="Conditions of the approval, or why you reject the change (required then)")

    field_order = ["decision", "comment", "password", "otp"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="Why the change goes back for revision; told to the sponsors")
    version = forms.IntegerField(widget=forms.HiddenInput)


class EffectivenessForm(forms.Form):
    effective = forms.TypedChoiceField(choices=[("yes", "Effective"), ("no", "Not effective")],
                                       coerce=lambda v: v == "yes", widget=forms.RadioSelect, label="Verdict")
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                              help_text="What was checked, and the evidence")
    version = forms.IntegerField(widget=forms.HiddenInput)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=ChangeDocument.Kind.choices)
    title = forms.CharField(max_length=200, required=False)
    file = forms.FileField()
