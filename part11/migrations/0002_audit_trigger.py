"""Install the audit trigger and attach it to every tenancy table; make the trail append-only and unforgeable."""

from django.conf import settings
from django.db import migrations

from part11.audit import REVERSE_SQL, SQL, audited_table
from tenants.rls import tenant_table_policies


def lock_down(apps, schema_editor):
    role = settings.DATABASE_APP_ROLE
    owner = (getattr(settings, "DATABASE_OWNER", None) or {}).get("USER")
    if not role or role == owner:
        return
    quoted = '"' + role.replace('"', '""') + '"'
    # The app role reads the trail (under RLS) and nothing else: only the owner's trigger writes it.
    schema_editor.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON part11_auditevent FROM {quoted}")
    schema_editor.execute(f"REVOKE ALL ON part11_chainhead FROM {quoted}")


PARTNERSHIP = {"owner": "sponsor_id", "partner": "cmo_id"}
VIA_PARTNERSHIP = {"owner": "sponsor_id", "partner": "cmo_id", "via": "tenants_partnership",
                   "via_key": "partnership_id"}


class Migration(migrations.Migration):
    dependencies = [("part11", "0001_initial"), ("tenants", "0011_keyed_system_context")]

    operations = [
        migrations.RunSQL(SQL, REVERSE_SQL),
        migrations.RunPython(lock_down, migrations.RunPython.noop),
        *tenant_table_policies(
            "part11_auditevent",
            select="organization_id = qms_org() OR partner_organization_id = qms_org()",
            write=None,
        ),
        audited_table("tenants_organization", owner="id"),
        audited_table("tenants_site"),
        audited_table("tenants_product"),
        audited_table("tenants_partnership", **PARTNERSHIP),
        audited_table("tenants_partnership_sites", **VIA_PARTNERSHIP),
        audited_table("tenants_partnership_products", **VIA_PARTNERSHIP),
        audited_table("tenants_membership"),
        audited_table("tenants_membershiptoken", owner="organization_id", via="tenants_membership",
                      via_key="membership_id"),
        audited_table("tenants_accessgrant"),
        audited_table("tenants_partnershipuserobjectpermission", owner="sponsor_id", partner="cmo_id",
                      via="tenants_partnership", via_key="content_object_id"),
        audited_table("tenants_storedfile"),
        audited_table("tenants_user", owner=""),  # people: the platform chain; passwords are never copied
    ]
