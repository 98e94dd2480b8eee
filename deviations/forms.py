"""Forms for the deviation pages; the services validate everything that needs the database."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from deviations.models import Category, Classification, Comment, InvestigationMethod, Outcome
from deviations.services import Line
from deviations.taxonomy import CATEGORIES

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DeviationForm(forms.Form):
    """The report: what happened, where, when, and what was done at once."""

    title = forms.CharField(max_length=200)
    site = forms.TypedChoiceField(coerce=int)
    area_equipment = forms.CharField(max_length=200, required=False, label="Area / equipment")
    process_step = forms.CharField(max_length=200, required=False)
    category = forms.ChoiceField(choices=Category.choices)
    discovered_at = forms.DateTimeField(widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    discovered_by = forms.CharField(max_length=200, help_text="Name and function")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    immediate_actions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, sites: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["site"]).choices = sites


class EditForm(DeviationForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


def lines_from_post(data: Any, product_ids: list[int]) -> list[Line]:
    """The product grid: a checkbox ``product-<id>`` and a comma-separated ``batches-<id>`` per product."""
    lines = []
    for pid in product_ids:
        if data.get(f"product-{pid}"):
            batches = tuple(b.strip() for b in data.get(f"batches-{pid}", "").split(",") if b.strip())
            lines.append(Line(product_id=pid, batch_numbers=batches))
    return lines


class ClassifyForm(forms.Form):
    classification = forms.ChoiceField(choices=Classification.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="Why this classification (product quality, patient safety, GMP impact)")
    version = forms.IntegerField(widget=forms.HiddenInput)


class InvestigationForm(forms.Form):
    investigation_method = forms.ChoiceField(choices=[("", "—"), *InvestigationMethod.choices], required=False,
                                             label="Method")
    findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    root_cause_code = forms.ChoiceField(required=False, label="Root cause")
    conclusion = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices], required=False)
    capa_not_required_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="No CAPA needed because",
        help_text="Only when no CAPA is linked to a repeat or critical deviation")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, causes: list[Any], lines: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["root_cause_code"]).choices = [("", "—"), *causes]
        self.line_fields = []
        for line in lines:
            name = f"impact-{line.pk}"
            self.fields[name] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), required=False,
                label=f"Product impact: {line.product.code} ({', '.join(line.batch_numbers) or 'no batch'})")
            self.initial.setdefault(name, line.impact)
            self.line_fields.append((line.pk, name))

    def impacts(self) -> dict[int, str]:
        return {pk: self.cleaned_data.get(name, "") for pk, name in self.line_fields}

    def investigation(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ("investigation_method", "findings", "root_cause_code",
                                                            "conclusion", "outcome", "capa_not_required_reason")}


class NotifyForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="Added to the notice; each sponsor sees only its own products and batches")


class CommentForm(forms.Form):
    kind = forms.ChoiceField(choices=[(Comment.Kind.COMMENT, "Comment"), (Comment.Kind.QUESTION, "Question"),
                                      (Comment.Kind.ANSWER, "Answer")])
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Comment")
    sponsor = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                     label="To", help_text="Which sponsor sees it (CMO only)")

    def __init__(self, *args: Any, sponsors: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sponsors is None:
            del self.fields["sponsor"]
        else:
            cast(forms.ChoiceField, self.fields["sponsor"]).choices = [("", "Internal note (CMO only)"), *sponsors]


class AcknowledgeForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ExtensionForm(forms.Form):
    requested_due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="New closure date")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                           help_text="Required when rejecting")


class CauseForm(forms.Form):
    parent = forms.ChoiceField(choices=[(c.code, f"{c.code} {c.name}") for c in CATEGORIES], label="Category")
    code = forms.CharField(max_length=20, help_text="e.g. MAC-X1")
    name = forms.CharField(max_length=200)


class FlagReviewForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Review conclusion",
                           help_text="Why the difference is justified, or what was corrected")

