"""Row-level security (DESIGN.md §3.2 layer 2), checked underneath the application code.

These tests talk SQL to PostgreSQL as the application role, so they do not depend on the selectors being right:
they compare the two layers and expect them to agree.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, ProgrammingError, connection, transaction

from tenants import rls, selectors
from tenants.models import Membership, Site

# Tables that hold no tenant data, each with the reason. Anything else without forced RLS fails the test below.
GLOBAL_TABLES = {
    "tenants_user": "people exist once across organizations; login runs before any organization is chosen",
    "tenants_user_groups": "Django auth groups are not used for tenant permissions (tenants/permissions.py is)",
    "tenants_user_user_permissions": "Django model permissions are global, for the platform admin only",
    "auth_group": "global Django auth table",
    "auth_group_permissions": "global Django auth table",
    "auth_permission": "global catalogue of permission names",
    "django_content_type": "global catalogue of models",
    "otp_totp_totpdevice": "a second-factor device belongs to a person, not to an organization",
    "django_session": "unused (sessions live in tenants_usersession); the app stays for clearsessions",
    "tenants_usersession": "session store: opaque rows keyed by a secret, read before any tenant is known",
    "axes_accessattempt": "failed-login counters, kept per username and address before anyone is logged in",
    "axes_accessfailurelog": "failed-login log (django-axes)",
    "axes_accesslog": "login log (django-axes)",
    "axes_accessattemptexpiration": "django-axes bookkeeping",
    "django_admin_log": "platform superuser's admin actions",
    "django_migrations": "schema history",
    "guardian_userobjectpermission": "guardian's generic table, unused: grants use direct-FK tables with RLS",
    "guardian_groupobjectpermission": "guardian's generic table, unused",
}


#: Cases run by test_raw_sql_matches_selectors_for_every_cast_member; printed in the run's summary.
RAW_SQL_CASES: list[int] = []


def rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def ids(table: str) -> set[int]:
    return {r[0] for r in rows(f"SELECT id FROM {table}")}


def test_application_role_owns_nothing_and_cannot_bypass(db, settings):
    (user, superuser, bypass) = rows(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )[0]
    assert user == settings.DATABASE_APP_ROLE == "qms_app"
    assert superuser is False and bypass is False
    assert rows("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user") == [(0,)]
    with pytest.raises(ProgrammingError), transaction.atomic():
        rows("TRUNCATE tenants_site CASCADE")


def test_every_table_is_tenant_protected_or_declared_global(db):
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    tables |= {"django_migrations"}
    status = {
        name: (rls_on, forced)
        for name, rls_on, forced in rows(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
    }
    policies: dict[str, set[str]] = {}
    for table, command in rows("SELECT tablename, cmd FROM pg_policies WHERE schemaname = 'public'"):
        policies.setdefault(table, set()).add(command)
    unprotected = []
    for table in sorted(tables - set(GLOBAL_TABLES)):
        if status.get(table) != (True, True) or policies.get(table) != {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            unprotected.append(table)
    assert unprotected == [], f"tenant tables without forced RLS and 4 policies: {unprotected}"
    assert set(GLOBAL_TABLES) <= tables, "a declared global table no longer exists: prune GLOBAL_TABLES"


def test_no_context_sees_nothing(cast):
    rls.clear()
    for table in (
        "tenants_organization",
        "tenants_site",
        "tenants_product",
        "tenants_partnership",
        "tenants_membership",
        "tenants_membershiptoken",
    ):
        assert ids(table) == set(), table


def test_unscoped_queryset_is_caught_by_rls(cast):
    """A deliberately unscoped ORM query (no selector) still returns only what Helix may see."""
    rls.activate_membership(cast.memberships["helix.qa"])
    assert list(Site.objects.values_list("name", flat=True)) == ["Acme Boston"]  # unscoped_: deliberate
    assert set(Membership.objects.values_list("user__username", flat=True)) == {
        "helix.qa",
        "helix.viewer",
        "helix.admin",
        "auditor",
    }


def test_raw_sql_matches_selectors_for_every_cast_member(cast):
    """For each cast member: what RLS returns for each tenancy table equals what the layer-1 selectors return."""
    cases = 0
    for username, membership in cast.memberships.items():
        expected = {
            "tenants_organization": selectors.organization_list(membership=membership),
            "tenants_site": selectors.site_list(membership=membership),
            "tenants_product": selectors.product_list(membership=membership),
            "tenants_partnership": selectors.partnership_list(membership=membership),
            "tenants_membership": selectors.member_list(membership=membership),
        }
        expected_ids = {table: set(qs.values_list("id", flat=True)) for table, qs in expected.items()}
        with rls.scoped(
            rls.Context(
                user_id=membership.user_id, organization_id=membership.organization_id, membership_id=membership.pk
            )
        ):
            for table, want in expected_ids.items():
                got = ids(table)
                assert got == want, (username, table, got, want)
                cases += 1
    RAW_SQL_CASES.append(cases)
    assert cases == 5 * len(cast.memberships)


def test_writes_to_foreign_rows_fail(cast):
    """As Acme: another CMO's site and a sponsor's product cannot be changed, deleted or created."""
    borealis_site = cast.sites["Borealis Montreal"].pk
    helix_product = cast.products["HLX-101"].pk
    rls.activate_membership(cast.memberships["acme.qa"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_site SET address = 'x' WHERE id = %s", [borealis_site])
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM tenants_site WHERE id = %s", [borealis_site])
        assert cursor.rowcount == 0
        cursor.execute("UPDATE tenants_product SET name = 'x' WHERE id = %s", [helix_product])  # visible, not owned
        assert cursor.rowcount == 0
        cursor.execute("UPDATE tenants_partnership SET tier = 3")  # platform-only table
        assert cursor.rowcount == 0
    for statement, params in [
        (
            "INSERT INTO tenants_site (organization_id, name, fei_number, country, address, activities, is_active, "
            "created_at) VALUES (%s, 'Planted', '', 'CA', '', '{}', true, now())",
            [cast.orgs["borealis"].pk],
        ),
        ("UPDATE tenants_site SET organization_id = %s WHERE name = 'Acme Boston'", [cast.orgs["borealis"].pk]),
    ]:
        with pytest.raises((ProgrammingError, IntegrityError)), transaction.atomic():
            rows_changed = connection.cursor()
            rows_changed.execute(statement, params)
    # And the owner's own write works.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_site SET address = 'ok' WHERE name = 'Acme Boston'")
        assert cursor.rowcount == 1


def test_token_identity_function_restores_context(cast, http_request):
    from tenants import services
    from tenants.auth import token_identity

    key, token = services.token_issue(
        request=http_request, username="acme.qa", password="correct-horse-battery-staple", organization_slug="acme"
    )
    rls.clear()
    identity = token_identity(key)
    assert identity == (token.pk, token.membership_id, cast.users["acme.qa"].pk, cast.orgs["acme"].pk)
    assert rls.current() == rls.Context()
    assert ids("tenants_site") == set()
    assert token_identity("not-a-token") is None


def test_system_context_needs_a_reason(db):
    with pytest.raises(ValueError), rls.system_context(""):
        pass


def test_activate_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        rls.activate(organization_id=1)


def test_tenant_task_acts_for_its_explicit_organization(cast):
    """A task body sees exactly its organization's rows, and its context does not leak to the caller."""
    @rls.tenant_task
    def visible_site_names(*, organization_id, membership_id=None):
        return sorted(Site.objects.values_list("name", flat=True))  # unscoped_: RLS decides

    assert visible_site_names(organization_id=cast.orgs["borealis"].pk) == ["Borealis Montreal"]
    assert visible_site_names(organization_id=cast.orgs["acme"].pk) == ["Acme Boston", "Acme Cork"]
    assert rls.current().system is True  # the test's own context is back
    with pytest.raises(TypeError):
        visible_site_names()
    with pytest.raises(ValueError):
        visible_site_names(organization_id=0)


@pytest.mark.parametrize("forged", ["on", "true", "x" * 64])
def test_the_app_role_cannot_forge_the_system_context(cast, forged):
    """Injected SQL running as the app role cannot switch the policies off: the key is not in the database."""
    rls.clear()
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('qms.system', %s, true)", [forged])
        cursor.execute("SELECT qms_system(), (SELECT count(*) FROM tenants_site)")
        assert cursor.fetchone() == (False, 0)
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        rows("SELECT key_hash FROM qms_system_key")


def test_the_real_key_opens_the_system_context(cast):
    with rls.system_context("test: the key works"):
        assert rows("SELECT qms_system()") == [(True,)]
        assert len(ids("tenants_site")) == 3
    rls.clear()
    assert rows("SELECT qms_system()") == [(False,)]
