"""The system context needs a key the application role cannot read or forge (see tenants/rls.py).

Before: ``qms_system()`` was true whenever the setting ``qms.system`` said ``on`` — a setting any SQL run as
the app role could make. Now it is true only for the owner role, or when ``qms.system`` holds a key whose
SHA-256 is in ``qms_system_key`` (owner-only). Every policy calls it as ``(SELECT qms_system())`` so it is
evaluated once per query. The two SECURITY DEFINER lookups run as the owner and no longer touch the setting.
"""

import hashlib

from django.conf import settings
from django.db import migrations

SQL = """
CREATE TABLE IF NOT EXISTS qms_system_key (key_hash text PRIMARY KEY);
REVOKE ALL ON qms_system_key FROM PUBLIC;

CREATE OR REPLACE FUNCTION qms_system_key_ok() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(current_setting('qms.system', true), '') <> '' AND EXISTS (
        SELECT 1 FROM qms_system_key
        WHERE key_hash = encode(sha256(convert_to(current_setting('qms.system', true), 'UTF8')), 'hex'))
$$;

CREATE OR REPLACE FUNCTION qms_system() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'public.tenants_organization'::regclass),
                       'MEMBER')
        OR qms_system_key_ok()
$$;

CREATE OR REPLACE FUNCTION qms_token_identity(hash text)
RETURNS TABLE(token_id bigint, membership_id bigint, user_id bigint, organization_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT t.id, m.id, m.user_id, m.organization_id
    FROM tenants_membershiptoken t
    JOIN tenants_membership m ON m.id = t.membership_id
    JOIN tenants_organization o ON o.id = m.organization_id
    WHERE t.key_hash = hash AND t.revoked_at IS NULL AND m.is_active AND o.is_active
$$;

CREATE OR REPLACE FUNCTION qms_grantee_membership(p_username text, p_org_slug text)
RETURNS TABLE(membership_id bigint, user_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT m.id, m.user_id FROM tenants_membership m
    JOIN tenants_user u ON u.id = m.user_id JOIN tenants_organization o ON o.id = m.organization_id
    WHERE u.username = p_username AND o.slug = p_org_slug AND m.is_active AND u.is_active AND o.is_active
$$;
"""


def lock_and_sync(apps, schema_editor):
    role = settings.DATABASE_APP_ROLE
    owner = (getattr(settings, "DATABASE_OWNER", None) or {}).get("USER")
    if role and role != owner:
        quoted = '"' + role.replace('"', '""') + '"'
        schema_editor.execute(f"REVOKE ALL ON qms_system_key FROM {quoted}")
    sync_system_key(schema_editor.connection)


def sync_system_key(connection) -> None:
    """Store the hash of this deployment's system key (also run after every migrate, for key rotation)."""
    digest = hashlib.sha256(settings.QMS_SYSTEM_KEY.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM qms_system_key WHERE key_hash <> %s", [digest])
        cursor.execute("INSERT INTO qms_system_key (key_hash) VALUES (%s) ON CONFLICT DO NOTHING", [digest])


def wrap_policies(apps, schema_editor, forward=True):
    """Rewrite every policy's ``qms_system()`` as ``(SELECT qms_system())`` (and back)."""
    old, new = ("qms_system()", "( SELECT qms_system() AS qms_system)") if forward else (
        "( SELECT qms_system() AS qms_system)", "qms_system()")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'")
        for table, name, command, qual, check in cursor.fetchall():
            parts = []
            if qual and old in qual and (forward is False or new not in qual):
                parts.append(f"USING ({qual.replace(old, new)})")
            if check and old in check and (forward is False or new not in check):
                parts.append(f"WITH CHECK ({check.replace(old, new)})")
            if parts:
                schema_editor.execute(f'ALTER POLICY "{name}" ON "{table}" ' + " ".join(parts))


class Migration(migrations.Migration):
    dependencies = [("tenants", "0010_faster_organization_policy")]

    operations = [
        migrations.RunSQL(SQL, migrations.RunSQL.noop),
        migrations.RunPython(lock_and_sync, migrations.RunPython.noop),
        migrations.RunPython(wrap_policies, lambda a, s: wrap_policies(a, s, forward=False)),
    ]
