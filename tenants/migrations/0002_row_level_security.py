"""Row-level security for the tenancy tables (DESIGN.md §3.2 layer 2), and the app role's privileges.

Visibility mirrors tenants/selectors.py; the raw-SQL test checks that the two agree for every cast member.
"""

from django.conf import settings
from django.db import migrations

from tenants.rls import FUNCTIONS_REVERSE_SQL, FUNCTIONS_SQL, grant_app_role_sql, tenant_table_policies

OWNED_BY_ME = "organization_id = qms_org()"

TOKEN_IDENTITY_SQL = """
CREATE OR REPLACE FUNCTION qms_token_identity(hash text)
RETURNS TABLE(token_id bigint, membership_id bigint, user_id bigint, organization_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    previous text := coalesce(current_setting('qms.system', true), '');
BEGIN
    -- The system flag lets the owner's policies show this one token; it is put back before returning.
    PERFORM set_config('qms.system', 'on', true);
    RETURN QUERY
        SELECT t.id, m.id, m.user_id, m.organization_id
        FROM tenants_membershiptoken t
        JOIN tenants_membership m ON m.id = t.membership_id
        JOIN tenants_organization o ON o.id = m.organization_id
        WHERE t.key_hash = hash AND t.revoked_at IS NULL AND m.is_active AND o.is_active;
    PERFORM set_config('qms.system', previous, true);
END
$$;
"""


def grant(apps, schema_editor):
    forward, _ = grant_app_role_sql(settings.DATABASE_APP_ROLE, getattr(settings, "DATABASE_OWNER", None) and
                                    settings.DATABASE_OWNER["USER"])
    schema_editor.execute(forward)


def revoke(apps, schema_editor):
    _, reverse = grant_app_role_sql(settings.DATABASE_APP_ROLE, getattr(settings, "DATABASE_OWNER", None) and
                                    settings.DATABASE_OWNER["USER"])
    schema_editor.execute(reverse)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTIONS_SQL, FUNCTIONS_REVERSE_SQL),
        migrations.RunPython(grant, revoke),
        migrations.RunSQL(TOKEN_IDENTITY_SQL, "DROP FUNCTION IF EXISTS qms_token_identity(text)"),
        # Organizations: itself, the ones the user belongs to, and parties to partnerships it can see.
        *tenant_table_policies(
            "tenants_organization",
            select="id = qms_org() "
                   "OR id IN (SELECT organization_id FROM tenants_membership WHERE user_id = qms_user()) "
                   "OR EXISTS (SELECT 1 FROM tenants_partnership p "
                   "WHERE p.sponsor_id = tenants_organization.id OR p.cmo_id = tenants_organization.id)",
            write=None,
        ),
        *tenant_table_policies("tenants_partnership", select="sponsor_id = qms_org() OR cmo_id = qms_org()",
                               write=None),
        *tenant_table_policies("tenants_partnership_sites",
                               select="partnership_id IN (SELECT id FROM tenants_partnership)", write=None),
        *tenant_table_policies("tenants_partnership_products",
                               select="partnership_id IN (SELECT id FROM tenants_partnership)", write=None),
        # A CMO's sites: its own, plus (for a sponsor) those in scope of a partnership it can see.
        *tenant_table_policies(
            "tenants_site",
            select=f"{OWNED_BY_ME} OR EXISTS (SELECT 1 FROM tenants_partnership_sites ps "
                   "JOIN tenants_partnership p ON p.id = ps.partnership_id "
                   "WHERE ps.site_id = tenants_site.id AND p.sponsor_id = qms_org())",
            write=OWNED_BY_ME,
        ),
        *tenant_table_policies(
            "tenants_product",
            select=f"{OWNED_BY_ME} OR EXISTS (SELECT 1 FROM tenants_partnership_products pp "
                   "JOIN tenants_partnership p ON p.id = pp.partnership_id "
                   "WHERE pp.product_id = tenants_product.id AND p.cmo_id = qms_org())",
            write=OWNED_BY_ME,
        ),
        # Members: a person sees their own memberships (to choose one); an organization sees its members.
        *tenant_table_policies("tenants_membership", select=f"user_id = qms_user() OR {OWNED_BY_ME}",
                               write=OWNED_BY_ME),
        *tenant_table_policies(
            "tenants_membershiptoken",
            select="membership_id IN (SELECT id FROM tenants_membership WHERE organization_id = qms_org())",
            write="membership_id IN (SELECT id FROM tenants_membership WHERE organization_id = qms_org())",
        ),
    ]
