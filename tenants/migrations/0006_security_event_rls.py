"""Security events: an organization reads and appends its own; nobody but the system context changes one."""

from django.db import migrations

from tenants.rls import tenant_table_policies


class Migration(migrations.Migration):
    dependencies = [("tenants", "0005_sessions_and_security_events")]

    operations = [
        *tenant_table_policies("tenants_securityevent", select="organization_id = qms_org()", write=None,
                               insert="organization_id = qms_org()"),
    ]
