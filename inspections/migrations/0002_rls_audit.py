"""Who sees what of an inspection (DESIGN.md §3.1), in the database.

The CMO sees and writes its inspections whole. A sponsor sees an inspection through its own scope rows and only
those; the documents the CMO shared; the 483 and its periodic updates; an observation when it is site-wide (in an
inspection in its scope) or when one of its products is affected; its own affected lines, impact assessments and
notices; the CAPA links of observations it sees. The live inspection log is the CMO's alone. A sponsor's
acknowledgement is its own row, inserted only for a notice sent to it; a comment on a draft response is inserted
by the CMO, or by the sponsor whose application the inspection reviews (a scope row with an application) on an
observation it sees. Every table is audited, with the sponsor as the partner where the row has one. Any change to
a drafting 483, its observations or their affected lines voids the response's signatures.

A sponsor also sees the site of an inspection in its scope, even when its partnership's site list does not name
it (as for deviations and changes): it must know where its product was inspected.
"""

from django.db import migrations

from part11.audit import audited_table
from part11.signing_sql import voids_signatures
from tenants.rls import replace_select_policy, tenant_table_policies

MINE = "organization_id = qms_org()"
MINE_OR_SPONSOR = "organization_id = qms_org() OR sponsor_id = qms_org()"
MY_SCOPE = "(SELECT inspection_id FROM inspections_scope WHERE sponsor_id = qms_org())"
VISIBLE_INSPECTION = "inspection_id IN (SELECT id FROM inspections_inspection)"
VISIBLE_OBSERVATION = "observation_id IN (SELECT id FROM inspections_observation)"
PARTICIPANT = ("inspection_id IN (SELECT inspection_id FROM inspections_scope WHERE sponsor_id = qms_org() "
               "AND application_reference <> '')")

SITE_BEFORE = (  # changes 0002
    "organization_id = qms_org() OR EXISTS (SELECT 1 FROM tenants_partnership_sites t "
          "JOIN tenants_partnership p ON p.id = t.partnership_id "
          "WHERE t.site_id = tenants_site.id AND (p.sponsor_id = qms_org() OR p.id IN (SELECT qms_granted_partnerships())))"
    " OR id IN (SELECT d.site_id FROM deviations_deviation d JOIN deviations_affectedproduct l "
    "ON l.deviation_id = d.id WHERE l.sponsor_id = qms_org())"
    " OR id IN (SELECT c.site_id FROM changes_changerequest c JOIN changes_affectedproduct l "
    "ON l.change_id = c.id WHERE l.sponsor_id = qms_org())")
SITE_AFTER = SITE_BEFORE + (" OR id IN (SELECT i.site_id FROM inspections_inspection i JOIN inspections_scope s "
                            "ON s.inspection_id = i.id WHERE s.sponsor_id = qms_org())")


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial"), ("part11", "0008_audit_review_rls"),
                    ("clocks", "0004_notify_partner"), ("tenants", "0015_record_counter_rls"),
                    ("changes", "0002_rls_audit"), ("capa", "0003_rls_audit")]

    operations = [
        *tenant_table_policies("inspections_inspection", write=MINE,
                               select=f"organization_id = qms_org() OR id IN {MY_SCOPE}"),
        audited_table("inspections_inspection"),
        *tenant_table_policies("inspections_scope", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("inspections_scope", partner="sponsor_id"),
        *tenant_table_policies("inspections_document", write=MINE,
                               select=f"organization_id = qms_org() OR (shared AND {VISIBLE_INSPECTION})"),
        audited_table("inspections_document"),
        *tenant_table_policies("inspections_logentry", select=MINE, write=MINE),
        audited_table("inspections_logentry"),
        *tenant_table_policies("inspections_form483", write=MINE,
                               select=f"organization_id = qms_org() OR {VISIBLE_INSPECTION}"),
        audited_table("inspections_form483"),
        voids_signatures("inspections_form483", signed_table="inspections_form483", only_if=("state", "drafting")),
        *tenant_table_policies("inspections_observation", write=MINE, select=(
            f"organization_id = qms_org() OR (visibility = 'site_wide' AND inspection_id IN {MY_SCOPE}) OR id IN "
            "(SELECT observation_id FROM inspections_affectedproduct WHERE sponsor_id = qms_org())")),
        audited_table("inspections_observation"),
        voids_signatures("inspections_observation", signed_table="inspections_form483", key="form483_id"),
        *tenant_table_policies("inspections_affectedproduct", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("inspections_affectedproduct", partner="sponsor_id"),
        voids_signatures("inspections_affectedproduct", signed_table="inspections_form483", key="form483_id"),
        *tenant_table_policies("inspections_impactassessment", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("inspections_impactassessment", partner="sponsor_id"),
        *tenant_table_policies("inspections_capalink", write=MINE,
                               select=f"organization_id = qms_org() OR {VISIBLE_OBSERVATION}"),
        audited_table("inspections_capalink"),
        *tenant_table_policies("inspections_commitmentclosure", write=MINE,
                               select=f"organization_id = qms_org() OR {VISIBLE_OBSERVATION}"),
        audited_table("inspections_commitmentclosure"),
        *tenant_table_policies("inspections_updatecommitment", write=MINE, select=(
            "organization_id = qms_org() OR form483_id IN (SELECT id FROM inspections_form483)")),
        audited_table("inspections_updatecommitment"),
        *tenant_table_policies("inspections_notice", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("inspections_notice", partner="sponsor_id"),
        *tenant_table_policies(
            "inspections_acknowledgement", select="organization_id = qms_org() OR cmo_id = qms_org()", write=None,
            insert="organization_id = qms_org() AND notice_id IN "
                   "(SELECT id FROM inspections_notice WHERE sponsor_id = qms_org() AND notified_at IS NOT NULL)"),
        audited_table("inspections_acknowledgement", partner="cmo_id"),
        *tenant_table_policies(
            "inspections_responsecomment",
            select="organization_id = qms_org() OR cmo_id = qms_org() OR sponsor_id = qms_org()", write=None,
            insert=f"organization_id = qms_org() AND (cmo_id = qms_org() OR (sponsor_id = qms_org() AND "
                   f"{PARTICIPANT})) AND {VISIBLE_OBSERVATION}"),
        audited_table("inspections_responsecomment", partner="cmo_id"),
        replace_select_policy("tenants_site", SITE_AFTER, SITE_BEFORE),
    ]
