"""An organization's record counters are its own (operational state: the numbers are on the audited records)."""

from django.db import migrations

from tenants.rls import tenant_table_policies


class Migration(migrations.Migration):
    dependencies = [("tenants", "0014_recordcounter")]

    operations = [*tenant_table_policies("tenants_recordcounter", select="organization_id = qms_org()",
                                         write="organization_id = qms_org()")]
