"""Stored files are visible exactly where their owning record is: the record's own table decides, under its RLS."""

from django.db import migrations

from tenants.rls import attached_record_policies

ROW_VISIBLE_SQL = """
CREATE OR REPLACE FUNCTION qms_row_visible(p_table text, p_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    visible boolean;
BEGIN
    -- Runs as the caller (not SECURITY DEFINER), so the owning table's own row-level security applies.
    IF p_table !~ '^[a-z_][a-z0-9_]*$' THEN
        RETURN false;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', p_table) INTO visible USING p_id;
    RETURN visible;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0008_stored_files")]

    operations = [
        migrations.RunSQL(ROW_VISIBLE_SQL, "DROP FUNCTION IF EXISTS qms_row_visible(text, bigint)"),
        *attached_record_policies("tenants_storedfile"),
    ]
