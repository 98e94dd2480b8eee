"""Only the two parties see and write an agreement and its parts; everything is audited (into the sponsor's chain,
readable by the CMO); changes to a draft void its signatures; the standard GMP activity catalogue."""

from django.db import migrations

from part11.audit import audited_table
from part11.signing_sql import voids_signatures
from tenants.rls import tenant_table_policies

PARTY = "sponsor_id = qms_org() OR cmo_id = qms_org()"
OF_MY_AGREEMENT = "agreement_id IN (SELECT id FROM agreements_qualityagreement)"
PARTS = ("agreements_agreementsection", "agreements_racirow", "agreements_notificationwindow",
         "agreements_datasharingterm")


def load_catalogue(apps, schema_editor):
    from agreements.catalogue import ACTIVITIES

    GmpActivity = apps.get_model("agreements", "GmpActivity")
    for position, spec in enumerate(ACTIVITIES):
        GmpActivity.objects.update_or_create(organization=None, code=spec.code,
                                             defaults={"name": spec.name, "critical": spec.critical,
                                                       "position": position})


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial"), ("part11", "0008_audit_review_rls"),
                    ("clocks", "0002_row_level_security_and_audit")]

    operations = [
        *tenant_table_policies("agreements_qualityagreement", select=PARTY, write=PARTY),
        audited_table("agreements_qualityagreement", owner="sponsor_id", partner="cmo_id"),
        voids_signatures("agreements_qualityagreement", signed_table="agreements_qualityagreement",
                         only_if=("state", "draft")),
        *[op for table in PARTS for op in (
            *tenant_table_policies(table, select=OF_MY_AGREEMENT, write=OF_MY_AGREEMENT),
            audited_table(table, owner="sponsor_id", partner="cmo_id", via="agreements_qualityagreement",
                          via_key="agreement_id"),
            voids_signatures(table, signed_table="agreements_qualityagreement", key="agreement_id"),
        )],
        *tenant_table_policies("agreements_subcontractorconsent", select=PARTY, write=PARTY),
        audited_table("agreements_subcontractorconsent", owner="sponsor_id", partner="cmo_id"),
        voids_signatures("agreements_subcontractorconsent", signed_table="agreements_subcontractorconsent",
                         only_if=("state", "proposed")),
        # A party's own activities are visible to its partners too: they appear in their joint RACI matrix.
        *tenant_table_policies("agreements_gmpactivity", select=(
            "organization_id IS NULL OR organization_id = qms_org() OR organization_id IN "
            "(SELECT sponsor_id FROM tenants_partnership WHERE cmo_id = qms_org() "
            "UNION SELECT cmo_id FROM tenants_partnership WHERE sponsor_id = qms_org())"),
            write="organization_id = qms_org()"),
        audited_table("agreements_gmpactivity"),
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
    ]
