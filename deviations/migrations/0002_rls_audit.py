"""Who sees what of a deviation (DESIGN.md §3.1), in the database: the CMO sees its deviations whole; a sponsor
sees a deviation through its own product lines and only those, its own notices, comment threads and timeline
entries; consistency flags, extension requests and the organization's own root-cause codes stay with the CMO.
Every table is audited; any change to a deviation under investigation (a reopen, a return) voids its signatures."""

from django.db import migrations

from part11.audit import audited_table
from part11.signing_sql import voids_signatures
from tenants.rls import tenant_table_policies

MINE = "organization_id = qms_org()"
MINE_OR_SPONSOR = "organization_id = qms_org() OR sponsor_id = qms_org()"
VISIBLE_DEVIATION = "deviation_id IN (SELECT id FROM deviations_deviation)"


class Migration(migrations.Migration):
    dependencies = [("deviations", "0001_initial"), ("part11", "0008_audit_review_rls"),
                    ("clocks", "0004_notify_partner"), ("tenants", "0015_record_counter_rls")]

    operations = [
        *tenant_table_policies("deviations_deviation", write=MINE, select=(
            "organization_id = qms_org() OR id IN "
            "(SELECT deviation_id FROM deviations_affectedproduct WHERE sponsor_id = qms_org())")),
        audited_table("deviations_deviation"),
        voids_signatures("deviations_deviation", signed_table="deviations_deviation",
                         only_if=("state", "under_investigation")),
        *tenant_table_policies("deviations_affectedproduct", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("deviations_affectedproduct", partner="sponsor_id"),
        voids_signatures("deviations_affectedproduct", signed_table="deviations_deviation", key="deviation_id"),
        *tenant_table_policies("deviations_notice", select=MINE_OR_SPONSOR, write=MINE),
        audited_table("deviations_notice", partner="sponsor_id"),
        *tenant_table_policies(
            "deviations_acknowledgement", select="organization_id = qms_org() OR cmo_id = qms_org()", write=None,
            insert="organization_id = qms_org() AND notice_id IN "
                   "(SELECT id FROM deviations_notice WHERE sponsor_id = qms_org() AND notified_at IS NOT NULL)"),
        audited_table("deviations_acknowledgement", partner="cmo_id"),
        *tenant_table_policies(
            "deviations_comment", select="organization_id = qms_org() OR cmo_id = qms_org() OR sponsor_id = qms_org()",
            write=None, insert=f"organization_id = qms_org() AND (cmo_id = qms_org() OR sponsor_id = qms_org()) "
                               f"AND {VISIBLE_DEVIATION}"),
        audited_table("deviations_comment", partner="cmo_id"),
        *tenant_table_policies(
            "deviations_timelineentry", write=None, insert=MINE,
            select=f"organization_id = qms_org() OR sponsor_id = qms_org() OR (sponsor_id IS NULL AND "
                   f"{VISIBLE_DEVIATION})"),
        audited_table("deviations_timelineentry"),
        *tenant_table_policies("deviations_extensionrequest", select=MINE, write=MINE),
        audited_table("deviations_extensionrequest"),
        *tenant_table_policies("deviations_repeatlink", write=MINE, select=(
            f"organization_id = qms_org() OR ({VISIBLE_DEVIATION} AND "
            "earlier_id IN (SELECT id FROM deviations_deviation))")),
        audited_table("deviations_repeatlink"),
        *tenant_table_policies("deviations_consistencyflag", select=MINE, write=MINE),
        audited_table("deviations_consistencyflag"),
        *tenant_table_policies("deviations_rootcausecode", select=MINE, write=MINE),
        audited_table("deviations_rootcausecode"),
    ]
