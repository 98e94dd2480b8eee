"""Confidentiality of change control, in both layers: the selectors, and raw SQL as the application role.

One Acme change affects HLX-101 (Helix) and NWB-7 (Northwind). Each sponsor sees the change, but only its own
line, route, filing assessments, filing decisions and approval; never the other sponsor's name or products.
Borealis sees nothing of it.
"""

from __future__ import annotations

import pytest
from django.db import connection

from changes import selectors, services
from changes.models import ChangeRequest
from part11.signatures import signatures_of
from tenants import rls
from tests.changes.helpers import assess, decide, raise_change, sponsor_sign, submit
from tests.tenants.test_rls import RAW_SQL_CASES

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(cast) -> ChangeRequest:
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    decide(cast, change, "NWB-7", "UK", by="northwind.qa")
    sponsor_sign(cast, change, "helix.qa")
    sponsor_sign(cast, change, "northwind.qa")
    return ChangeRequest.objects.get(pk=change.pk)


EXPECTED = {"acme": {"HLX-101", "NWB-7"}, "helix": {"HLX-101"}, "northwind": {"NWB-7"}, "borealis": set()}


def _org(cast, username: str) -> str:
    return next(slug for slug, org in cast.orgs.items() if org.pk == cast.memberships[username].organization_id)


def test_each_sponsor_sees_only_its_own_lines_assessments_decisions_and_approvals(cast, change):
    for username, membership in cast.memberships.items():
        org = _org(cast, username)
        want = EXPECTED[org]
        visible = selectors.change_list(membership=membership)
        assert visible.filter(pk=change.pk).exists() == bool(want), username
        if not want:
            continue
        seen = visible.get(pk=change.pk)
        assert {line.product.code for line in seen.visible_lines} == want, username
        # Where its product changes, even a site its partnership does not list (Northwind's names only Acme Cork).
        assert seen.site is not None and seen.site.name == "Acme Boston", username
        assert set(selectors.lines_of(membership=membership, change=change)
                   .values_list("product__code", flat=True)) == want
        assert set(selectors.assessments_of(membership=membership, change=change)
                   .values_list("product__code", flat=True)) == want
        assert set(selectors.decisions_of(membership=membership, change=change)
                   .values_list("assessment__product__code", flat=True)) == want
        sponsors = {cast.orgs[s].pk for s in ("helix", "northwind") if s == org or org == "acme"}
        assert set(selectors.approvals_of(membership=membership, change=change)
                   .values_list("organization_id", flat=True)) == sponsors
        assert set(selectors.routes_of(membership=membership, change=change)
                   .values_list("sponsor_id", flat=True)) == sponsors


def test_what_a_sponsor_is_told_is_missing_names_only_itself(cast, change):
    with rls.scoped(rls.Context(user_id=cast.users["helix.qa"].pk, organization_id=cast.orgs["helix"].pk,
                                membership_id=cast.memberships["helix.qa"].pk)):
        helix_view = " ".join(services.implementation_blockers(ChangeRequest.objects.get(pk=change.pk),
                                                               cast.memberships["helix.qa"]))
    assert "HLX-101 (EU)" in helix_view
    assert "Northwind" not in helix_view and "NWB-7" not in helix_view and "Acme CDMO QA" not in helix_view
    cmo_view = " ".join(services.implementation_blockers(change))
    assert "NWB-7 (US)" in cmo_view and "HLX-101 (EU)" in cmo_view


def test_signed_content_reveals_no_other_sponsors_products(cast, change):
    approval = selectors.approval_list(membership=cast.memberships["helix.qa"]).get(change=change)
    content = signatures_of(approval).get().content
    assert len(content["change"]["lines"]) == 1  # its own line, as a hash


def test_awaiting_my_decision_lists_only_the_sponsors_own_tasks(cast):
    change = submit(cast, assess(cast, raise_change(cast, products=("HLX-101", "NWB-7"))))
    helix = selectors.awaiting_decision(cast.memberships["helix.qa"])
    assert [route.change_id for route in helix.approvals] == [change.pk]
    assert {(a.product.code, a.market) for a in helix.filings} == {("HLX-101", "US"), ("HLX-101", "EU")}
    decide(cast, change, "HLX-101", "US", by="helix.qa")
    sponsor_sign(cast, change, "helix.qa")
    helix = selectors.awaiting_decision(cast.memberships["helix.qa"])
    assert (helix.approvals.count(), helix.filings.count(), helix.count) == (0, 1, 1)
    northwind = selectors.awaiting_decision(cast.memberships["northwind.qa"])
    assert {a.product.code for a in northwind.filings} == {"NWB-7"} and northwind.approvals.count() == 1
    assert selectors.awaiting_decision(cast.memberships["acme.qa"]).count == 0


TABLES = {
    "changes_changerequest": lambda m: selectors.change_list(membership=m),
    "changes_affectedproduct": lambda m: selectors.lines_visible(membership=m),
    "changes_filingdecision": lambda m: selectors.decision_list(membership=m),
    "changes_approval": lambda m: selectors.approval_list(membership=m),
}


def _ids(table: str, column: str = "id") -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608  (fixed table names)
        return {row[0] for row in cursor.fetchall()}


def test_raw_sql_as_the_application_role_agrees_with_the_selectors(cast, change):
    cases = 0
    for username, membership in cast.memberships.items():
        want = {table: set(select(membership).values_list("id", flat=True)) for table, select in TABLES.items()}
        org = _org(cast, username)
        products = {cast.products[code].pk for code in EXPECTED[org]}
        routes = ({cast.orgs["helix"].pk, cast.orgs["northwind"].pk} if org == "acme"
                  else {cast.orgs[org].pk} if products else set())
        with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                    membership_id=membership.pk)):
            for table in TABLES:
                assert _ids(table) == want[table], (username, table)
                cases += 1
            for table in ("changes_affectedproduct", "changes_filingassessment"):
                assert _ids(table, "product_id") == products, (username, table)
                cases += 1
            assert _ids("changes_sponsorroute", "sponsor_id") == routes, username
            cases += 1
    RAW_SQL_CASES.append(cases)
    assert cases == 7 * len(cast.memberships)


def test_a_sponsor_writes_nothing_of_the_owners_rows_nor_the_other_sponsors(cast, change):
    rls.activate_membership(cast.memberships["helix.qa"])
    with connection.cursor() as cursor:
        for sql in ("UPDATE changes_changerequest SET title = 'x' WHERE id = %s",
                    "UPDATE changes_affectedproduct SET product_id = product_id WHERE change_id = %s",
                    "UPDATE changes_filingassessment SET suggested_category = 'none' WHERE change_id = %s",
                    "UPDATE changes_sponsorroute SET notified_at = now() WHERE change_id = %s",
                    "UPDATE changes_approval SET comment = 'x' WHERE change_id = %s"):
            cursor.execute(sql, [change.pk])
            assert cursor.rowcount == 0, sql
        cursor.execute("UPDATE changes_filingdecision SET override_reason = 'x' WHERE change_id = %s "
                       "AND organization_id <> %s", [change.pk, cast.orgs["helix"].pk])
        assert cursor.rowcount == 0
    rls.activate_membership(cast.memberships["acme.qa"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE changes_filingdecision SET confirmed_category = 'none' WHERE change_id = %s",
                       [change.pk])
        assert cursor.rowcount == 0  # the CMO never changes the sponsor's decision
