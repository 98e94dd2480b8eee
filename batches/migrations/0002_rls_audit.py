"""Who sees what of a batch (DESIGN.md §3.1), in the database.

The CMO sees and writes its batches and their record; the batch's sponsor reads them, and so does the holder of a
live grant on the batch's partnership (an auditor). Dispositions and query messages are written by either party,
each as its own row, never changed afterwards. Every table is audited, with the other party as the partner, so
both see each step in the trail.

The sponsor's signed disposition settles the batch: ``qms_batch_sponsor_disposed`` is the one narrow way a sponsor
changes the CMO's batch row (its state) and meets the CMO-owned review clock, and only from a signed disposition
of its own on a batch awaiting it.
"""

from django.db import migrations

from part11.audit import audited_table
from tenants.rls import tenant_table_policies

GRANTED = "partnership_id IN (SELECT qms_granted_partnerships())"
CMO = "organization_id = qms_org()"
BATCH_READERS = f"organization_id = qms_org() OR sponsor_id = qms_org() OR {GRANTED}"
PARTIES = f"cmo_id = qms_org() OR sponsor_id = qms_org() OR {GRANTED}"
OWN_PARTY_ROW = "organization_id = qms_org() AND (organization_id = cmo_id OR organization_id = sponsor_id)"

SPONSOR_DISPOSED_SQL = """
CREATE OR REPLACE FUNCTION qms_batch_sponsor_disposed(p_disposition bigint) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    me bigint := NULLIF(current_setting('qms.org_id', true), '')::bigint;
    who bigint := NULLIF(current_setting('qms.user_id', true), '')::bigint;
    d batches_disposition%ROWTYPE;
    b batches_batch%ROWTYPE;
    new_state text;
BEGIN
    SELECT * INTO d FROM batches_disposition WHERE id = p_disposition;
    IF me IS NULL OR d.id IS NULL OR d.organization_id <> me OR d.sponsor_id <> me THEN
        RAISE EXCEPTION 'disposition % is not a disposition of the acting sponsor', p_disposition
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM part11_signature s WHERE s.record_table = 'batches_disposition'
                   AND s.record_id = d.id AND s.organization_id = me AND s.voided_at IS NULL) THEN
        RAISE EXCEPTION 'disposition % is not signed', p_disposition USING ERRCODE = 'insufficient_privilege';
    END IF;
    new_state := CASE d.decision WHEN 'rejected' THEN 'rejected' WHEN 'conditional' THEN 'conditionally_released'
                                 ELSE 'released' END;
    UPDATE batches_batch SET state = new_state, disposed_at = d.decided_at, version = version + 1
     WHERE id = d.batch_id AND sponsor_id = me AND state = 'sponsor_review'
     RETURNING * INTO b;
    IF b.id IS NULL THEN
        RAISE EXCEPTION 'batch % is not awaiting a disposition of the acting sponsor', d.batch_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The sponsor-review clock (the CMO's, with the sponsor in its audience): met now, or met late (kept missed),
    -- exactly as clocks.services.deadline_complete would record it.
    UPDATE clocks_deadline
       SET completed_at = d.decided_at, completed_late = d.decided_at > due_at, completed_by_id = who,
           state = CASE WHEN d.decided_at > due_at THEN 'missed' ELSE 'met' END, version = version + 1
     WHERE id = b.review_deadline_id AND completed_at IS NULL AND state IN ('open', 'missed');
    UPDATE clocks_deadlinestage SET state = 'cancelled'
     WHERE deadline_id = b.review_deadline_id AND state = 'pending';
    RETURN new_state;
END
$$;
REVOKE ALL ON FUNCTION qms_batch_sponsor_disposed(bigint) FROM PUBLIC;
"""


def grant(apps, schema_editor):
    from django.conf import settings

    role = settings.DATABASE_APP_ROLE
    owner = (getattr(settings, "DATABASE_OWNER", None) or {}).get("USER")
    if role and role != owner:
        quoted = '"' + role.replace('"', '""') + '"'
        schema_editor.execute(f"GRANT EXECUTE ON FUNCTION qms_batch_sponsor_disposed(bigint) TO {quoted}")


class Migration(migrations.Migration):
    dependencies = [("batches", "0001_initial"), ("part11", "0008_audit_review_rls"),
                    ("clocks", "0004_notify_partner"), ("tenants", "0015_record_counter_rls")]

    operations = [
        *tenant_table_policies("batches_batch", select=BATCH_READERS, write=CMO),
        audited_table("batches_batch", partner="sponsor_id"),
        *tenant_table_policies("batches_document", select=BATCH_READERS, write=CMO),
        audited_table("batches_document", partner="sponsor_id"),
        *tenant_table_policies("batches_qcresult", select=BATCH_READERS, write=CMO),
        audited_table("batches_qcresult", partner="sponsor_id"),
        *tenant_table_policies("batches_changeineffect", select=BATCH_READERS, write=CMO),
        audited_table("batches_changeineffect", partner="sponsor_id"),
        *tenant_table_policies("batches_disposition", select=PARTIES, write=None,
                               insert=f"{OWN_PARTY_ROW} AND batch_id IN (SELECT id FROM batches_batch)"),
        audited_table("batches_disposition", partner="counterpart_id"),
        *tenant_table_policies(
            "batches_query", select=f"organization_id = qms_org() OR cmo_id = qms_org() OR {GRANTED}",
            write="organization_id = qms_org()"),
        audited_table("batches_query", partner="cmo_id"),
        *tenant_table_policies("batches_querymessage", select=PARTIES, write=None,
                               insert=f"{OWN_PARTY_ROW} AND query_id IN (SELECT id FROM batches_query)"),
        audited_table("batches_querymessage", partner="counterpart_id"),
        migrations.RunSQL(SPONSOR_DISPOSED_SQL, "DROP FUNCTION IF EXISTS qms_batch_sponsor_disposed(bigint)"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
