"""The agreement in force on a partnership's page (or the warning that conservative defaults apply)."""

from __future__ import annotations

from typing import Any

from django import template

from agreements import selectors
from tenants.models import Partnership

register = template.Library()


@register.inclusion_tag("agreements/_partnership_agreement.html")
def partnership_agreement(partnership: Partnership) -> dict[str, Any]:
    terms = selectors.effective_terms(partnership)
    return {"terms": terms, "agreement": terms.agreement, "partnership": partnership}
