"""Organization visibility without a per-row scan of partnerships (docs/rls-performance.md, fix 1).

Same rows as before: itself, the organizations the user belongs to, and parties to partnerships it can see.
"""

from django.db import migrations

from tenants.rls import replace_select_policy

BEFORE = ("id = qms_org() "
          "OR id IN (SELECT organization_id FROM tenants_membership WHERE user_id = qms_user()) "
          "OR EXISTS (SELECT 1 FROM tenants_partnership p "
          "WHERE p.sponsor_id = tenants_organization.id OR p.cmo_id = tenants_organization.id)")
AFTER = ("id = qms_org() "
         "OR id IN (SELECT organization_id FROM tenants_membership WHERE user_id = qms_user()) "
         "OR id IN (SELECT sponsor_id FROM tenants_partnership) "
         "OR id IN (SELECT cmo_id FROM tenants_partnership)")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0009_stored_file_rls")]

    operations = [replace_select_policy("tenants_organization", AFTER, BEFORE)]
