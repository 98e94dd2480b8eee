"""Who sees which batch, checked in both layers: the selectors, and raw SQL as the application role.

The cast: Acme makes HLX-101 for Helix and NWB-7 for Northwind; Borealis makes NWB-9 for Northwind. Helix's
auditor holds a live grant on Northwind ↔ Borealis. Northwind must never see an HLX-101 lot, nor Helix an NWB lot.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from batches import selectors
from batches.models import Batch
from tenants import grants, rls
from tests.batches.helpers import ask, at_sponsor
from tests.deviations.routes import member
from tests.tenants.test_rls import RAW_SQL_CASES

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(cast):
    """A batch of each product awaiting its sponsor, each with an open query; the auditor's grant."""
    member(cast, "borealis.operator", "operator")
    batches = {code: at_sponsor(cast, product=code, lot=f"{code}-A") for code in ("HLX-101", "NWB-7", "NWB-9")}
    for code, batch in batches.items():
        ask(cast, batch, by="helix.qa" if code == "HLX-101" else "northwind.qa")
    now = timezone.now()
    grants.grant_create(membership=cast.memberships["northwind.qa"],
                        partnership=cast.partnership("northwind", "borealis"), grantee_username="auditor",
                        grantee_organization="helix", reason="Supplier audit of Borealis",
                        starts_at=now - dt.timedelta(hours=1), expires_at=now + dt.timedelta(days=1))
    return batches


EXPECTED_PRODUCTS = {
    "acme.qa": {"HLX-101", "NWB-7"}, "acme.operator": {"HLX-101", "NWB-7"}, "acme.admin": {"HLX-101", "NWB-7"},
    "borealis.qa": {"NWB-9"}, "borealis.admin": {"NWB-9"}, "borealis.operator": {"NWB-9"},
    "helix.qa": {"HLX-101"}, "helix.viewer": {"HLX-101"}, "helix.admin": {"HLX-101"},
    "auditor": {"HLX-101", "NWB-9"},  # Helix's own batches, and Borealis's for Northwind through the grant
    "northwind.qa": {"NWB-7", "NWB-9"}, "northwind.admin": {"NWB-7", "NWB-9"},
}


def test_each_member_sees_exactly_its_batches(cast, three):
    for username, membership in cast.memberships.items():
        seen = set(selectors.batch_list(membership=membership).values_list("product__code", flat=True))
        assert seen == EXPECTED_PRODUCTS[username], username
    northwind = cast.memberships["northwind.qa"]
    assert not selectors.batch_list(membership=northwind).filter(product__code="HLX-101").exists()
    assert not selectors.document_list(membership=northwind).filter(batch__product__code="HLX-101").exists()
    assert not selectors.query_list(membership=northwind).filter(batch__product__code="HLX-101").exists()
    assert not selectors.disposition_list(membership=northwind).filter(batch__product__code="HLX-101").exists()


TABLES = {
    "batches_batch": lambda m: selectors.batch_list(membership=m),
    "batches_document": lambda m: selectors.document_list(membership=m),
    "batches_disposition": lambda m: selectors.disposition_list(membership=m),
    "batches_query": lambda m: selectors.query_list(membership=m),
}


def _ids(table: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table}")  # noqa: S608  (fixed table names)
        return {row[0] for row in cursor.fetchall()}


def test_raw_sql_as_the_application_role_agrees_with_the_selectors(cast, three):
    cases = 0
    for username, membership in cast.memberships.items():
        want = {table: set(select(membership).values_list("id", flat=True)) for table, select in TABLES.items()}
        visible_batches = want["batches_batch"]
        with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                    membership_id=membership.pk)):
            for table in TABLES:
                assert _ids(table) == want[table], (username, table)
                cases += 1
            for table in ("batches_qcresult", "batches_changeineffect"):
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT DISTINCT batch_id FROM {table}")  # noqa: S608
                    assert {r[0] for r in cursor.fetchall()} <= visible_batches, (username, table)
                cases += 1
            with connection.cursor() as cursor:
                cursor.execute("SELECT DISTINCT query_id FROM batches_querymessage")
                assert {r[0] for r in cursor.fetchall()} == want["batches_query"], username
            cases += 1
    RAW_SQL_CASES.append(cases)
    assert cases == 7 * len(cast.memberships)


def test_a_sponsor_writes_nothing_of_the_cmo_record(cast, three):
    hlx = three["HLX-101"]
    rls.activate_membership(cast.memberships["helix.qa"])
    with connection.cursor() as cursor:
        for sql in ("UPDATE batches_batch SET unit = 'x' WHERE id = %s",
                    "UPDATE batches_qcresult SET result = 'x' WHERE batch_id = %s",
                    "DELETE FROM batches_document WHERE batch_id = %s",
                    "UPDATE batches_disposition SET reason = 'x' WHERE batch_id = %s"):
            cursor.execute(sql, [hlx.pk])
            assert cursor.rowcount == 0, sql
    assert Batch.objects.get(pk=hlx.pk).unit == "tablets"
