"""A CAPA is its owner's; a CMO's CAPA linked to one of its deviations is readable by the sponsors that deviation
affects (the deviation's own row-level security decides), never a sponsor's own CAPA by anyone else. Audited;
changes to a reopened CAPA or to its actions void its signatures."""

from django.db import migrations

from part11.audit import audited_table
from part11.signing_sql import voids_signatures
from tenants.rls import tenant_table_policies


class Migration(migrations.Migration):
    dependencies = [("capa", "0002_initial"), ("deviations", "0002_rls_audit")]

    operations = [
        *tenant_table_policies("capa_capa", write="organization_id = qms_org()", select=(
            "organization_id = qms_org() OR (source_deviation_id IS NOT NULL AND source_deviation_id IN "
            "(SELECT d.id FROM deviations_deviation d WHERE d.organization_id = capa_capa.organization_id))")),
        audited_table("capa_capa"),
        voids_signatures("capa_capa", signed_table="capa_capa", only_if=("state", "open")),
        *tenant_table_policies("capa_capaaction", select="capa_id IN (SELECT id FROM capa_capa)",
                               write="organization_id = qms_org()"),
        audited_table("capa_capaaction"),
        voids_signatures("capa_capaaction", signed_table="capa_capa", key="capa_id"),
    ]
