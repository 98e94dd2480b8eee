"""A party to a partnership tells the other party's members something now (a deviation notice, a batch query).

Row-level security hides a partner's memberships from the acting organization, so the outbox rows for them are
written by one narrow SECURITY DEFINER function: it refuses unless the acting organization is a party to the
named partnership, writes only to the *other* party's active members in the given roles, and returns how many it
wrote. The calling service has already checked that the acting member may see and act on the record.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION qms_notify_partner(p_partnership bigint, p_roles text[], p_record_table text,
                                              p_record_id bigint, p_subject text, p_body text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    me bigint := NULLIF(current_setting('qms.org_id', true), '')::bigint;
    target bigint;
    written integer;
BEGIN
    SELECT CASE WHEN p.cmo_id = me THEN p.sponsor_id WHEN p.sponsor_id = me THEN p.cmo_id END INTO target
      FROM tenants_partnership p WHERE p.id = p_partnership;
    IF me IS NULL OR target IS NULL THEN
        RAISE EXCEPTION 'the acting organization is not a party to partnership %', p_partnership
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO clocks_notification (organization_id, recipient_id, user_id, record_table, record_id, level,
                                     subject, body, created_at, email_state, email_attempts, next_attempt_at,
                                     last_error)
    SELECT target, m.id, m.user_id, p_record_table, p_record_id, 'info', left(p_subject, 300), p_body, now(),
           CASE WHEN u.email <> '' AND u.is_active THEN 'pending' ELSE 'skipped' END, 0, now(), ''
      FROM tenants_membership m JOIN tenants_user u ON u.id = m.user_id
     WHERE m.organization_id = target AND m.is_active AND m.role = ANY(p_roles);
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
REVOKE ALL ON FUNCTION qms_notify_partner(bigint, text[], text, bigint, text, text) FROM PUBLIC;
"""


def grant(apps, schema_editor):
    from django.conf import settings

    role = settings.DATABASE_APP_ROLE
    owner = (getattr(settings, "DATABASE_OWNER", None) or {}).get("USER")
    if role and role != owner:
        quoted = '"' + role.replace('"', '""') + '"'
        schema_editor.execute(
            f"GRANT EXECUTE ON FUNCTION qms_notify_partner(bigint, text[], text, bigint, text, text) TO {quoted}")


class Migration(migrations.Migration):
    dependencies = [("clocks", "0003_leaner_indexes")]

    operations = [
        migrations.RunSQL(SQL, "DROP FUNCTION IF EXISTS qms_notify_partner(bigint, text[], text, bigint, text, text)"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
