"""Exports: visible where their record is, written by the exporting organization, never changed; audited."""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import attached_record_policies


class Migration(migrations.Migration):
    dependencies = [("part11", "0005_record_exports")]

    operations = [
        *attached_record_policies("part11_recordexport"),
        audited_table("part11_recordexport"),
    ]
