"""Audit reviews: visible where their record is, written by the reviewer's organization, never changed; audited."""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import tenant_table_policies


class Migration(migrations.Migration):
    dependencies = [("part11", "0007_audit_reviews")]

    operations = [
        *tenant_table_policies(
            "part11_auditreview",
            select="organization_id = qms_org() OR qms_row_visible(record_table, record_id)",
            write=None,
            insert="organization_id = qms_org() AND qms_row_visible(record_table, record_id)",
        ),
        audited_table("part11_auditreview"),
    ]
