"""Bulk registration of batches from a CMO's MES export: CSV (page or API) or JSON rows (API).

All or nothing: every row is validated first, through the same ``batch_create`` the form uses, inside one
transaction; if any row fails, nothing is kept and the answer lists every failing row with its fields.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from batches.models import Batch
from batches.services import batch_create
from tenants.models import Membership, Product, Site
from tenants.permissions import Capability, can

COLUMNS = ("product", "lot_number", "site", "manufactured_on", "completed_on", "expiry_date", "quantity", "unit",
           "planned_delivery_date")
REQUIRED = ("product", "lot_number", "site", "manufactured_on", "quantity", "unit")
DATES = ("manufactured_on", "completed_on", "expiry_date", "planned_delivery_date")
MAX_ROWS = 1000
MAX_BYTES = 1024 * 1024


@dataclass
class RowError:
    row: int  # 1-based data row (the header is row 0)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


class ImportRefused(ValidationError):
    """Some rows are invalid: nothing was registered. ``rows`` holds every failing row's errors by field."""

    def __init__(self, rows: list[RowError], message: str) -> None:
        self.rows = rows
        super().__init__({"rows": [message]})


def rows_from_csv(data: bytes) -> list[dict[str, str]]:
    """The CSV's rows as dicts keyed by the (lower-cased) header; refuses what is not a usable CSV."""
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": f"An import file may be at most {MAX_BYTES // 1024} KB."})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "The file is not UTF-8 text; export it as CSV (UTF-8)."}) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError({"file": f"The header must name the columns {', '.join(COLUMNS)}; missing: "
                                       f"{', '.join(missing)}."})
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ValidationError({"file": f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."})
    reader.fieldnames = header
    rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise ValidationError({"file": "The file has a header but no batches."})
    return rows


def _date(value: str, name: str, error: RowError) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        error.add(name, "Use a date as YYYY-MM-DD.")
        return None


def _parse(membership: Membership, number: int, row: Mapping[str, Any], products: dict[str, Product],
           sites: dict[str, Site]) -> tuple[dict[str, Any], RowError]:
    error = RowError(number)
    values = {name: str(row.get(name) or "").strip() for name in COLUMNS}
    for name in REQUIRED:
        if not values[name]:
            error.add(name, "This field is required.")
    product = products.get(values["product"].upper())
    if values["product"] and product is None:
        error.add("product", f"{values['product']} is not a product your organization makes for a sponsor.")
    site = sites.get(values["site"].lower())
    if values["site"] and site is None:
        error.add("site", f"{values['site']} is not one of your organization's sites.")
    quantity = None
    if values["quantity"]:
        try:
            quantity = Decimal(values["quantity"])
        except InvalidOperation:
            error.add("quantity", "Give the quantity as a number, e.g. 250000 or 12.5.")
    parsed: dict[str, Any] = {"product": product, "site": site, "lot_number": values["lot_number"],
                              "quantity": quantity, "unit": values["unit"]}
    for name in DATES:
        parsed[name] = _date(values[name], name, error)
    return parsed, error


def batches_import(*, membership: Membership, rows: Iterable[Mapping[str, Any]]) -> list[Batch]:
    """Register every row, or none (``ImportRefused`` lists the failing rows)."""
    if not can(membership, Capability.RECORD_OPERATIONS):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")
    if not membership.organization.is_cmo:
        raise PermissionDenied("Batches are registered by the CMO that makes them; a sponsor reviews them.")
    rows = list(rows)
    if not rows:
        raise ValidationError({"rows": "There are no batches to import."})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"rows": f"Import at most {MAX_ROWS} batches at a time."})
    org = membership.organization_id
    products = {p.code.upper(): p for p in Product.objects.filter(partnerships__cmo_id=org).distinct()}
    sites = {s.name.lower(): s for s in Site.objects.filter(organization_id=org)}
    errors: list[RowError] = []
    created: list[Batch] = []
    seen: dict[tuple[str, str], int] = {}
    with transaction.atomic():
        for number, row in enumerate(rows, start=1):
            values, error = _parse(membership, number, row, products, sites)
            key = (str(row.get("product") or "").upper(), values["lot_number"])
            if key in seen:
                error.add("lot_number", f"Lot {values['lot_number']} is also on row {seen[key]} of this file.")
            seen.setdefault(key, number)
            if not error.fields:
                try:
                    with transaction.atomic():
                        created.append(batch_create(membership=membership, **values))
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        for message in messages:
                            error.add(name, message)
            if error.fields:
                errors.append(error)
        if errors:  # raised inside the block: every batch registered above is rolled back with it
            raise ImportRefused(errors, f"{len(errors)} of {len(rows)} rows have errors; nothing was imported.")
    return created
