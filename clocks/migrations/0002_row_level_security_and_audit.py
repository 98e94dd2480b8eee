"""Row-level security on every clocks table; the audit trigger on closures, deadlines and their audiences.

Stages, notifications and delivery attempts are operational state derived from an audited deadline (its due time
and state changes are in the trail); attempts are themselves the delivery record. A deadline is visible to its
owner and to each organization in its audience; the audience table carries the owner's id so that the deadline's
policy can read the audience without the audience's policy reading the deadline (no policy recursion).
"""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import tenant_table_policies

IN_MY_AUDIENCE = "deadline_id IN (SELECT deadline_id FROM clocks_deadlineaudience WHERE organization_id = qms_org())"


class Migration(migrations.Migration):
    dependencies = [("clocks", "0001_initial"), ("part11", "0008_audit_review_rls")]

    operations = [
        *tenant_table_policies("clocks_closureday", select="organization_id = qms_org()",
                               write="organization_id = qms_org()"),
        audited_table("clocks_closureday"),
        *tenant_table_policies(
            "clocks_deadline",
            select="organization_id = qms_org() OR id IN "
                   "(SELECT deadline_id FROM clocks_deadlineaudience WHERE organization_id = qms_org())",
            write="organization_id = qms_org()"),
        audited_table("clocks_deadline"),
        *tenant_table_policies("clocks_deadlineaudience",
                               select="organization_id = qms_org() OR owner_organization_id = qms_org()",
                               write="owner_organization_id = qms_org()"),
        audited_table("clocks_deadlineaudience", owner="owner_organization_id", partner="organization_id"),
        *tenant_table_policies("clocks_deadlinestage", select=f"organization_id = qms_org() OR {IN_MY_AUDIENCE}",
                               write="organization_id = qms_org()"),
        *tenant_table_policies("clocks_notification", select="organization_id = qms_org()",
                               write="organization_id = qms_org()"),
        *tenant_table_policies("clocks_deliveryattempt", select="organization_id = qms_org()", write=None),
    ]
