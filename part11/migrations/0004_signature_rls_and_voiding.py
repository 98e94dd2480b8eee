"""Signatures: visible where their record is, written only by their signer's organization, voided by the
database when the signed record changes, and themselves audited."""

from django.db import migrations

from part11.audit import audited_table
from part11.signing_sql import VOID_SQL, voids_signatures
from tenants.rls import attached_record_policies


class Migration(migrations.Migration):
    dependencies = [("part11", "0003_signatures")]

    operations = [
        migrations.RunSQL(VOID_SQL, "DROP FUNCTION IF EXISTS qms_void_signatures()"),
        *attached_record_policies("part11_signature"),
        audited_table("part11_signature"),
        # The demo signable record until the domain apps arrive: a partnership and what its content includes.
        voids_signatures("tenants_partnership", signed_table="tenants_partnership"),
        voids_signatures("tenants_partnership_sites", signed_table="tenants_partnership", key="partnership_id"),
        voids_signatures("tenants_partnership_products", signed_table="tenants_partnership", key="partnership_id"),
        voids_signatures("tenants_storedfile", signed_table="tenants_partnership", key="record_id",
                         only_if=("record_table", "tenants_partnership")),
    ]
