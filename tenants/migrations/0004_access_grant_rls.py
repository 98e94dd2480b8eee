"""Row-level security for grants; a live grant lets its grantee see the partnership and what is in its scope."""

from django.db import migrations

from tenants.rls import replace_select_policy, tenant_table_policies

LIVE_GRANTS_SQL = """
CREATE OR REPLACE FUNCTION qms_granted_partnerships() RETURNS SETOF bigint
    LANGUAGE sql STABLE AS $$
    SELECT partnership_id FROM tenants_accessgrant
    WHERE grantee_id = qms_membership() AND revoked_at IS NULL
      AND starts_at <= statement_timestamp() AND expires_at > statement_timestamp()
$$;

CREATE OR REPLACE FUNCTION qms_grantee_membership(p_username text, p_org_slug text)
RETURNS TABLE(membership_id bigint, user_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    previous text := coalesce(current_setting('qms.system', true), '');
BEGIN
    -- A grantor names a person in another organization; this returns only that one active membership.
    PERFORM set_config('qms.system', 'on', true);
    RETURN QUERY SELECT m.id, m.user_id FROM tenants_membership m
        JOIN tenants_user u ON u.id = m.user_id JOIN tenants_organization o ON o.id = m.organization_id
        WHERE u.username = p_username AND o.slug = p_org_slug AND m.is_active AND u.is_active AND o.is_active;
    PERFORM set_config('qms.system', previous, true);
END
$$;
"""

PARTNERSHIP_BEFORE = "sponsor_id = qms_org() OR cmo_id = qms_org()"
PARTNERSHIP_AFTER = PARTNERSHIP_BEFORE + " OR id IN (SELECT qms_granted_partnerships())"


def in_scope(through: str, column: str, party: str, with_grants: bool) -> str:
    grant = " OR p.id IN (SELECT qms_granted_partnerships())" if with_grants else ""
    table = "tenants_site" if column == "site_id" else "tenants_product"
    return (f"organization_id = qms_org() OR EXISTS (SELECT 1 FROM {through} t "
            f"JOIN tenants_partnership p ON p.id = t.partnership_id "
            f"WHERE t.{column} = {table}.id AND (p.{party} = qms_org(){grant}))")


SPONSOR_PARTNERSHIPS = "content_object_id IN (SELECT id FROM tenants_partnership WHERE sponsor_id = qms_org())"


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_access_grants"), ("tenants", "0002_row_level_security")]

    operations = [
        migrations.RunSQL(
            LIVE_GRANTS_SQL,
            "DROP FUNCTION IF EXISTS qms_grantee_membership(text, text); "
            "DROP FUNCTION IF EXISTS qms_granted_partnerships();",
        ),
        *tenant_table_policies("tenants_accessgrant",
                               select="organization_id = qms_org() OR grantee_id = qms_membership()",
                               write="organization_id = qms_org()"),
        *tenant_table_policies("tenants_partnershipuserobjectpermission",
                               select=f"user_id = qms_user() OR {SPONSOR_PARTNERSHIPS}", write=SPONSOR_PARTNERSHIPS),
        replace_select_policy("tenants_partnership", PARTNERSHIP_AFTER, PARTNERSHIP_BEFORE),
        replace_select_policy("tenants_site", in_scope("tenants_partnership_sites", "site_id", "sponsor_id", True),
                              in_scope("tenants_partnership_sites", "site_id", "sponsor_id", False)),
        replace_select_policy("tenants_product",
                              in_scope("tenants_partnership_products", "product_id", "cmo_id", True),
                              in_scope("tenants_partnership_products", "product_id", "cmo_id", False)),
    ]
