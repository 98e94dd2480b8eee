"""A sponsor sees the site where a deviation affecting its product happened, even when its partnership's site
list does not name that site (a CMO's QC lab at another site, say): the sponsor must know where its product was
affected. Nothing else about the site's other work is revealed (site lists still come from partnerships)."""

from django.db import migrations

from tenants.rls import replace_select_policy

BEFORE = (  # tenants 0004: own sites, or in a partnership (as sponsor or through a live grant)
    "organization_id = qms_org() OR EXISTS (SELECT 1 FROM tenants_partnership_sites t "
          "JOIN tenants_partnership p ON p.id = t.partnership_id "
          "WHERE t.site_id = tenants_site.id AND (p.sponsor_id = qms_org() OR p.id IN (SELECT qms_granted_partnerships())))")
AFTER = BEFORE + (" OR id IN (SELECT d.site_id FROM deviations_deviation d JOIN deviations_affectedproduct l "
                  "ON l.deviation_id = d.id WHERE l.sponsor_id = qms_org())")


class Migration(migrations.Migration):
    dependencies = [("deviations", "0002_rls_audit"), ("tenants", "0015_record_counter_rls")]

    operations = [replace_select_policy("tenants_site", AFTER, BEFORE)]
