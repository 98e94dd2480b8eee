"""The CMO that makes a product sees (read-only) a change its sponsor raises to that product: through the line's
``cmo`` column, as a sponsor sees a CMO's change through ``sponsor``. The owner's rows under the change (the
effectiveness review, documents) follow the change's own visibility already."""

from django.db import migrations

from tenants.rls import replace_select_policy

CHANGE_BEFORE = ("organization_id = qms_org() OR id IN "
                 "(SELECT change_id FROM changes_affectedproduct WHERE sponsor_id = qms_org())")
CHANGE_AFTER = ("organization_id = qms_org() OR id IN "
                "(SELECT change_id FROM changes_affectedproduct WHERE sponsor_id = qms_org() OR cmo_id = qms_org())")
LINE_BEFORE = "organization_id = qms_org() OR sponsor_id = qms_org()"
LINE_AFTER = "organization_id = qms_org() OR sponsor_id = qms_org() OR cmo_id = qms_org()"


class Migration(migrations.Migration):
    dependencies = [("changes", "0006_line_cmo")]

    operations = [
        replace_select_policy("changes_changerequest", CHANGE_AFTER, CHANGE_BEFORE),
        replace_select_policy("changes_affectedproduct", LINE_AFTER, LINE_BEFORE),
    ]
