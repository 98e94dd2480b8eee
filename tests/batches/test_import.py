"""Bulk registration from a CMO's MES export: every row valid, or nothing registered and every bad row named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches.imports import ImportRefused, batches_import, rows_from_csv
from batches.models import Batch
from tests.agreements.helpers import acting
from tests.batches.helpers import register

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
HEADER = "product,lot_number,site,manufactured_on,completed_on,expiry_date,quantity,unit,planned_delivery_date"


def _row(lot: str, **overrides: str) -> dict[str, str]:
    row = {"product": "HLX-101", "lot_number": lot, "site": "Acme Boston",
           "manufactured_on": (TODAY - dt.timedelta(days=9)).isoformat(), "quantity": "250000", "unit": "tablets"}
    return {**row, **overrides}


def _import(cast, rows, by: str = "acme.operator"):
    with acting(cast, by):
        return batches_import(membership=cast.memberships[by], rows=rows)


def test_a_valid_file_registers_every_row(cast):
    expiry = TODAY + dt.timedelta(days=730)
    csv_text = "\n".join([HEADER,
                          f"HLX-101,H-100,Acme Boston,{TODAY - dt.timedelta(days=9)},,{expiry},250000,tablets,",
                          f"nwb-7,N-200,acme cork,{TODAY - dt.timedelta(days=3)},,,1500.5,L,"
                          f"{TODAY + dt.timedelta(days=30)}"])
    created = _import(cast, rows_from_csv(csv_text.encode()))
    assert [(b.product.code, b.lot_number, b.sponsor.slug) for b in created] == [
        ("HLX-101", "H-100", "helix"), ("NWB-7", "N-200", "northwind")]
    assert Batch.objects.get(lot_number="N-200").planned_delivery_date == TODAY + dt.timedelta(days=30)


def test_one_bad_row_keeps_nothing_and_every_bad_row_is_reported(cast):
    register(cast, lot="EXISTING")
    rows = [
        _row("GOOD-1"),
        _row("", quantity="lots"),                       # 2: lot missing, quantity not a number
        _row("BAD-3", product="NWB-9"),                  # 3: Acme does not make NWB-9
        _row("BAD-4", manufactured_on="03/12/2026"),     # 4: not an ISO date
        _row("GOOD-1"),                                  # 5: repeats row 1
        _row("EXISTING"),                                # 6: already registered
        _row("BAD-7", site="Acme Cork"),                 # 7: not a site of the Helix partnership
        _row("BAD-8", completed_on=(TODAY - dt.timedelta(days=20)).isoformat()),  # 8: ends before it starts
    ]
    with pytest.raises(ImportRefused) as refused:
        _import(cast, rows)
    report = {error.row: error.fields for error in refused.value.rows}
    assert sorted(report) == [2, 3, 4, 5, 6, 7, 8]
    assert set(report[2]) == {"lot_number", "quantity"}
    assert "product" in report[3] and "manufactured_on" in report[4]
    assert "also on row 1" in report[5]["lot_number"][0]
    assert "already registered" in report[6]["lot_number"][0]
    assert "not a site of the partnership" in report[7]["site"][0]
    assert "completed_on" in report[8]
    assert "7 of 8 rows have errors; nothing was imported." in refused.value.messages
    assert set(Batch.objects.values_list("lot_number", flat=True)) == {"EXISTING"}


@pytest.mark.parametrize(("content", "message"), [
    (b"product,lot_number\nHLX-101,X\n", "missing: site, manufactured_on, quantity, unit"),
    ((HEADER + ",colour\n").encode(), "Unknown column: colour"),
    (HEADER.encode() + b"\n", "no batches"),
    ("product;lot\n\xe9".encode("latin-1"), "not UTF-8"),
])
def test_unusable_files_are_refused_before_any_row(content, message):
    with pytest.raises(ValidationError) as refused:
        rows_from_csv(content)
    assert message in refused.value.message_dict["file"][0]


def test_only_a_cmo_with_production_rights_imports(cast):
    for who in ("helix.qa", "acme.admin"):
        with pytest.raises(PermissionDenied):
            _import(cast, [_row("X-1")], by=who)
    assert not Batch.objects.exists()
