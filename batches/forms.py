"""Forms for the batch pages; the services validate everything that needs the database (partnership, site,
release chain), and their refusals land on these fields by name."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from batches.models import Document
from batches.services import CHOICES, ChangeLine, QcLine
from qms.forms import PasswordForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label: str | None = None, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(widget=DATE, required=required, label=label, help_text=help_text)


class HeaderForm(forms.Form):
    """The batch's own data: what the CMO made, where, when and how much."""

    lot_number = forms.CharField(max_length=50, label="Lot number")
    site = forms.TypedChoiceField(coerce=int)
    manufactured_on = _date("Manufacturing start", required=True)
    completed_on = _date("Manufacturing end")
    expiry_date = _date("Expiry date")
    quantity = forms.DecimalField(max_digits=14, decimal_places=3, min_value=0)
    unit = forms.CharField(max_length=20, help_text="e.g. tablets, vials, kg, L")
    planned_delivery_date = _date("Planned delivery", help_text="On-time-in-full counts against this date")

    def __init__(self, *args: Any, sites: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", "—"), *sites]


class BatchForm(HeaderForm):
    """Register a batch: the product names the sponsor (each product the CMO makes belongs to one partnership)."""

    product = forms.TypedChoiceField(coerce=int, help_text="The products your partnerships name, with their sponsor")

    field_order = ["product", "lot_number", "site"]

    def __init__(self, *args: Any, products: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product"]).choices = [("", "—"), *products]


class EditForm(HeaderForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header row; at most 1,000 batches.")


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=Document.Kind.choices,
                             help_text="A new executed batch record or certificate of analysis supersedes the "
                                       "current one (which stays on record).")
    title = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text="The executed batch record and the certificate of analysis must be PDFs.")


class DeliveryForm(forms.Form):
    actual_delivery_date = _date("Delivered on", required=True)
    version = forms.IntegerField(widget=forms.HiddenInput)


class DisposeForm(PasswordForm):
    """The acting party's signed decision; justification and reason are checked by the service per decision."""

    decision = forms.ChoiceField(choices=[(c, c) for c in CHOICES], widget=forms.RadioSelect)
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text="Conditional release only: why the open deviation cannot affect the batch, and what is pending.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="Rejection only: why the batch is rejected.")

    field_order = ["decision", "justification", "reason", "password", "otp"]

    def __init__(self, *args: Any, labels: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["decision"]).choices = [(c, labels[c]) for c in CHOICES if c in labels]


class QueryForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Question")


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reply")


class CloseQueryForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Closing note")


# --- Row tables (QC results, changes in effect) -------------------------------------------------------------------


class ResultRowForm(forms.Form):
    test = forms.CharField(max_length=200, required=False)
    specification = forms.CharField(max_length=200, required=False)
    result = forms.CharField(max_length=200, required=False)
    passed = forms.BooleanField(required=False, initial=True, label="Pass")
    oos = forms.BooleanField(required=False, label="OOS investigated")

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(n) or "").strip() for n in ("test", "specification", "result"))

    def line(self) -> QcLine:
        data = self.cleaned_data
        return QcLine(test=data["test"], specification=data["specification"], result=data["result"],
                      passed=bool(data["passed"]), oos=bool(data["oos"]))


class ChangeRowForm(forms.Form):
    reference = forms.CharField(max_length=50, required=False, help_text="Change control number")
    title = forms.CharField(max_length=200, required=False)

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(n) or "").strip() for n in ("reference", "title"))

    def line(self) -> ChangeLine:
        return ChangeLine(reference=self.cleaned_data["reference"], title=self.cleaned_data["title"])


#: Blank rows offered beyond the existing ones (a row left blank is dropped; clear a row to remove it).
EXTRA_ROWS = 5
ResultRows = forms.formset_factory(ResultRowForm, extra=EXTRA_ROWS)
ChangeRows = forms.formset_factory(ChangeRowForm, extra=3)
