"""Who sees what of a change (DESIGN.md §3.1), in the database.

The owner (the CMO, or a sponsor for its own change) sees and writes its changes whole. A sponsor sees a change
through its own product lines and only those: its lines, its route (approval or notification, with the clock), its
filing assessments, and the change's effectiveness review. A sponsor's filing decisions and signed approvals are its own rows, visible to it and to the
change's owner; the owner can never write them (so "the CMO cannot finalise the filing" holds in the database too).
A decision is inserted only on a current assessment of the sponsor's own product; an approval only where the
sponsor's route requires one. Every table is audited, with the other party as the partner where the row has one.

A sponsor also sees the site where a change to its product is made, even when its partnership's site list does
not name it (as for deviations, 0003 there): it must know where its product changes. No SECURITY DEFINER function
is needed: no partner ever writes the owner's row (the owner's QA approval is signed after the sponsors', and the
owner records implementation), so every write stays inside the writer's own rows.
"""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import replace_select_policy, tenant_table_policies

MINE = "organization_id = qms_org()"
MINE_OR_SPONSOR = "organization_id = qms_org() OR sponsor_id = qms_org()"
MINE_OR_OWNER = "organization_id = qms_org() OR cmo_id = qms_org()"

SITE_BEFORE = (  # deviations 0003
    "organization_id = qms_org() OR EXISTS (SELECT 1 FROM tenants_partnership_sites t "
          "JOIN tenants_partnership p ON p.id = t.partnership_id "
          "WHERE t.site_id = tenants_site.id AND (p.sponsor_id = qms_org() OR p.id IN (SELECT qms_granted_partnerships())))"
    " OR id IN (SELECT d.site_id FROM deviations_deviation d JOIN deviations_affectedproduct l "
    "ON l.deviation_id = d.id WHERE l.sponsor_id = qms_org())")
SITE_AFTER = SITE_BEFORE + (" OR id IN (SELECT c.site_id FROM changes_changerequest c JOIN changes_affectedproduct l "
                            "ON l.change_id = c.id WHERE l.sponsor_id = qms_org())")


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial"), ("part11", "0008_audit_review_rls"),
                    ("clocks", "0004_notify_partner"), ("tenants", "0015_record_counter_rls"),
                    ("deviations", "0003_site_visible_to_affected_sponsors")]

    operations = [
        *tenant_table_policies("changes_changerequest", write=MINE, select=(
            "organization_id = qms_org() OR id IN "
            "(SELECT change_id FROM changes_affectedproduct WHERE sponsor_id = qms_org())")),
        audited_table("changes_changerequest"),
        *tenant_table_policies("changes_affectedproduct", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("changes_affectedproduct", partner="sponsor_id"),
        *tenant_table_policies("changes_sponsorroute", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("changes_sponsorroute", partner="sponsor_id"),
        *tenant_table_policies("changes_filingassessment", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("changes_filingassessment", partner="sponsor_id"),
        *tenant_table_policies(
            "changes_filingdecision", select=MINE_OR_OWNER, write=MINE,
            insert="organization_id = qms_org() AND assessment_id IN "
                   "(SELECT id FROM changes_filingassessment WHERE sponsor_id = qms_org() AND NOT superseded)"),
        audited_table("changes_filingdecision", partner="cmo_id"),
        *tenant_table_policies(
            "changes_approval", select=MINE_OR_OWNER, write=None,
            insert="organization_id = qms_org() AND (change_id, partnership_id) IN "
                   "(SELECT change_id, partnership_id FROM changes_sponsorroute "
                   "WHERE sponsor_id = qms_org() AND requirement = 'approval')"),
        audited_table("changes_approval", partner="cmo_id"),
        *tenant_table_policies("changes_effectivenessreview", write=MINE, select=(
            "organization_id = qms_org() OR change_id IN (SELECT id FROM changes_changerequest)")),
        audited_table("changes_effectivenessreview"),
        replace_select_policy("tenants_site", SITE_AFTER, SITE_BEFORE),
    ]
