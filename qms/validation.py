"""Validation that names the field, for services of every app."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model


def full_clean_by_field(obj: Model, *, exclude: list[str] | None = None) -> None:
    """``obj.full_clean()``, with multi-column constraint errors moved onto the field they concern.

    Django reports a violated ``UniqueConstraint(fields=["organization", "name"])`` as a non-field error; the
    user needs to see it next to "name". A model lists ``constraint_fields = {violation_error_code: field}``.
    """
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        mapping: dict[str, str] = getattr(obj, "constraint_fields", {})
        errors = exc.error_dict
        remaining = []
        for error in errors.pop(NON_FIELD_ERRORS, []):
            field = mapping.get(error.code or "")
            if field:
                errors.setdefault(field, []).append(error)
            else:
                remaining.append(error)
        if remaining:
            errors[NON_FIELD_ERRORS] = remaining
        raise ValidationError(errors) from None
