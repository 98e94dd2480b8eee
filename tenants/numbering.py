"""Human record numbers (DEV-2026-0042, CAPA-2026-0007): a per-organization, per-year sequence.

One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` takes the next number atomically, so two people reporting at
the same moment never get the same number, and a rolled-back transaction gives its number back (no gaps from
failed saves, unlike a database sequence).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection


def next_number(organization_id: int, prefix: str, on: dt.date | None = None) -> str:
    year = (on or dt.date.today()).year
    key = f"{prefix}-{year}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenants_recordcounter (organization_id, key, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (organization_id, key) DO UPDATE SET last = tenants_recordcounter.last + 1 RETURNING last",
            [organization_id, key])
        (value,) = cursor.fetchone()
    return f"{key}-{value:04d}"
