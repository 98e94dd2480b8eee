"""Two versions of an agreement side by side: changed sections (line diff), RACI cells and terms."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from agreements import selectors
from agreements.models import QualityAgreement
from agreements.services import TERM_FIELDS
from tenants.models import Membership


@dataclass
class Comparison:
    old: QualityAgreement
    new: QualityAgreement
    sections: list[dict[str, Any]] = field(default_factory=list)
    raci: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old.pk, "new": self.new.pk, "sections": self.sections, "raci": self.raci,
                "terms": self.terms}

    @property
    def unchanged(self) -> bool:
        return not (self.sections or self.raci or self.terms)


def other_version(membership: Membership, agreement: QualityAgreement, other_id: Any) -> QualityAgreement:
    """The version to compare with: the one asked for (same partnership, visible) or the one before."""
    versions = selectors.agreement_list(membership=membership).filter(partnership_id=agreement.partnership_id)
    if other_id:
        try:
            other = versions.filter(pk=int(other_id)).first()
        except (TypeError, ValueError):
            other = None
    else:
        other = versions.filter(number__lt=agreement.number).order_by("-number").first()
    if other is None:
        raise Http404("No other version of this agreement to compare with.")
    return other


def compare(old: QualityAgreement, new: QualityAgreement) -> Comparison:
    if old.number > new.number:
        old, new = new, old
    result = Comparison(old=old, new=new)
    before = {s.key: s for s in old.sections.all()}
    for section in new.sections.all():
        previous = before.get(section.key)
        old_body = previous.body if previous else ""
        if old_body != section.body:
            table = difflib.HtmlDiff(wrapcolumn=70).make_table(
                old_body.splitlines(), section.body.splitlines(), f"v{old.number}", f"v{new.number}",
                context=True, numlines=2)
            result.sections.append({"key": section.key, "title": section.title, "old": old_body,
                                    "new": section.body, "diff_html": table})
    cells = {r.activity_code: r for r in old.raci.all()}
    for row in new.raci.all():
        was = cells.get(row.activity_code)
        if was is None or (was.sponsor, was.cmo) != (row.sponsor, row.cmo):
            result.raci.append({"activity": row.activity_name, "old_sponsor": was.sponsor if was else None,
                                "old_cmo": was.cmo if was else None, "new_sponsor": row.sponsor,
                                "new_cmo": row.cmo})
    for name in TERM_FIELDS:
        if getattr(old, name) != getattr(new, name):
            result.terms.append({"field": name, "old": _plain(getattr(old, name)), "new": _plain(getattr(new, name))})
    windows_old = {w.event: (w.amount, w.unit, w.calendar) for w in old.windows.all()}
    for window in new.windows.all():
        was_w = windows_old.get(window.event)
        now_w = (window.amount, window.unit, window.calendar)
        if was_w != now_w:
            result.terms.append({"field": f"window {window.event}", "old": _plain(was_w), "new": _plain(now_w)})
    return result


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v)
    return str(value)


