"""Audit reviews: visible where their record is, written by the reviewer's organization, never changed; audited."""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import attached_record_policies


class Migration(migrations.Migration):
    dependencies = [("part11", "0007_audit_reviews")]

    operations = [
        *attached_record_policies("part11_auditreview"),
        audited_table("part11_auditreview"),
    ]
