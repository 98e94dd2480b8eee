"""Row-level security for linked documents, and approvals bound to their round.

A linked document is the owner's row, seen wherever its change is seen (a sponsor through its lines). A sponsor's
approval may be inserted only for a route of the change's current round that requires it: an approval for an
earlier (withdrawn) round would otherwise still satisfy the check.
"""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import SYSTEM, tenant_table_policies

APPROVAL_BEFORE = ("organization_id = qms_org() AND (change_id, partnership_id) IN "
                   "(SELECT change_id, partnership_id FROM changes_sponsorroute "
                   "WHERE sponsor_id = qms_org() AND requirement = 'approval')")
APPROVAL_AFTER = ("organization_id = qms_org() AND (change_id, partnership_id, round) IN "
                  "(SELECT r.change_id, r.partnership_id, r.round FROM changes_sponsorroute r "
                  "JOIN changes_changerequest c ON c.id = r.change_id AND c.approval_round = r.round "
                  "WHERE r.sponsor_id = qms_org() AND r.requirement = 'approval')")


def _insert_policy(predicate: str) -> str:
    return ("DROP POLICY IF EXISTS changes_approval_insert ON changes_approval; "
            "CREATE POLICY changes_approval_insert ON changes_approval FOR INSERT "
            f"WITH CHECK ({SYSTEM} OR ({predicate}));")


class Migration(migrations.Migration):
    dependencies = [("changes", "0003_rounds_documents")]

    operations = [
        *tenant_table_policies("changes_changedocument", write="organization_id = qms_org()", select=(
            "organization_id = qms_org() OR change_id IN (SELECT id FROM changes_changerequest)")),
        audited_table("changes_changedocument"),
        migrations.RunSQL(_insert_policy(APPROVAL_AFTER), _insert_policy(APPROVAL_BEFORE)),
    ]
