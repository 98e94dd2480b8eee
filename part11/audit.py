"""The database side of the audit trail, and the request/reason context the trigger records.

Why our own trigger rather than django-pghistory (docs/part11.md): Part 11 asks for one ordered, hash-chained
trail per organization. pghistory writes one event table per model, which would still need a chaining layer on
top; one generic trigger writing one table gives the chain directly, catches ORM, bulk and raw-SQL writes alike,
and lets the application role hold no write privilege on the trail at all.

The trigger reads the acting context that tenants.rls sets (``qms.user_id``, ``qms.membership_id``) plus
``qms.request_id`` (set per request by the middleware) and ``qms.reason`` (set by :func:`reason_for_change`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, migrations

ZERO_HASH = "0" * 64

SQL = r"""
CREATE TABLE IF NOT EXISTS part11_chainhead (
    organization_key bigint PRIMARY KEY,   -- 0: the platform chain (records with no organization)
    last_seq bigint NOT NULL,
    last_hash text NOT NULL
);
REVOKE ALL ON part11_chainhead FROM PUBLIC;

CREATE OR REPLACE FUNCTION qms_audit_hash(
    p_prev text, p_seq bigint, p_org bigint, p_partner bigint, p_table text, p_record bigint, p_action text,
    p_changes jsonb, p_user bigint, p_membership bigint, p_request text, p_reason text, p_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        p_prev, p_seq::text, coalesce(p_org::text, ''), coalesce(p_partner::text, ''), p_table, p_record::text,
        p_action, p_changes::text, coalesce(p_user::text, ''), coalesce(p_membership::text, ''),
        coalesce(p_request, ''), coalesce(p_reason, ''),
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION qms_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN '{}'::jsonb ELSE to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN '{}'::jsonb ELSE to_jsonb(NEW) END;
    row_data jsonb;
    diff jsonb := '{}'::jsonb;
    field text;
    org bigint;
    partner bigint;
    head record;
    next_seq bigint;
    digest text;
    at timestamptz := clock_timestamp();
    act text := CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END;
    actor bigint := NULLIF(current_setting('qms.user_id', true), '')::bigint;
    acting bigint := NULLIF(current_setting('qms.membership_id', true), '')::bigint;
    req text := coalesce(current_setting('qms.request_id', true), '');
    why text := coalesce(current_setting('qms.reason', true), '');
BEGIN
    row_data := CASE WHEN TG_OP = 'DELETE' THEN old_row ELSE new_row END;
    FOR field IN SELECT key FROM jsonb_object_keys(old_row) AS key
                 UNION SELECT key FROM jsonb_object_keys(new_row) AS key LOOP
        IF (old_row -> field) IS DISTINCT FROM (new_row -> field) THEN
            IF field = 'password' THEN  -- never copy credentials into the trail; record that they changed
                diff := diff || jsonb_build_object(field, jsonb_build_array('***', '*** (changed)'));
            ELSE
                diff := diff || jsonb_build_object(field, jsonb_build_array(old_row -> field, new_row -> field));
            END IF;
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND diff = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    -- TG_ARGV: owner column, partner column ('' for none), and optionally a table + foreign key to read them from.
    IF TG_NARGS >= 4 AND TG_ARGV[2] <> '' THEN
        EXECUTE format('SELECT %I, %s FROM %I WHERE id = $1', TG_ARGV[0],
                       CASE WHEN TG_ARGV[1] <> '' THEN quote_ident(TG_ARGV[1]) ELSE 'NULL::bigint' END, TG_ARGV[2])
            INTO org, partner USING (row_data ->> TG_ARGV[3])::bigint;
    ELSIF TG_ARGV[0] <> '' THEN
        org := (row_data ->> TG_ARGV[0])::bigint;
        IF TG_NARGS >= 2 AND TG_ARGV[1] <> '' THEN
            partner := (row_data ->> TG_ARGV[1])::bigint;
        END IF;
    END IF;
    INSERT INTO part11_chainhead (organization_key, last_seq, last_hash)
        VALUES (coalesce(org, 0), 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
    SELECT * INTO head FROM part11_chainhead WHERE organization_key = coalesce(org, 0) FOR UPDATE;
    next_seq := head.last_seq + 1;
    digest := qms_audit_hash(head.last_hash, next_seq, org, partner, TG_TABLE_NAME, (row_data ->> 'id')::bigint,
                             act, diff, actor, acting, req, why, at);
    INSERT INTO part11_auditevent (organization_id, partner_organization_id, seq, record_table, record_id, action,
                                   changes, actor_user_id, actor_membership_id, request_id, reason, occurred_at,
                                   prev_hash, hash)
        VALUES (org, partner, next_seq, TG_TABLE_NAME, (row_data ->> 'id')::bigint, act, diff, actor, acting, req,
                why, at, head.last_hash, digest);
    UPDATE part11_chainhead SET last_seq = next_seq, last_hash = digest WHERE organization_key = coalesce(org, 0);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION qms_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER part11_auditevent_append_only BEFORE UPDATE OR DELETE ON part11_auditevent
    FOR EACH ROW EXECUTE FUNCTION qms_audit_append_only();
CREATE TRIGGER part11_auditevent_no_truncate BEFORE TRUNCATE ON part11_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION qms_audit_append_only();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS part11_auditevent_append_only ON part11_auditevent;
DROP TRIGGER IF EXISTS part11_auditevent_no_truncate ON part11_auditevent;
DROP FUNCTION IF EXISTS qms_audit_append_only(); DROP FUNCTION IF EXISTS qms_audit();
DROP FUNCTION IF EXISTS qms_audit_hash(text, bigint, bigint, bigint, text, bigint, text, jsonb, bigint, bigint, text,
                                       text, timestamptz);
DROP TABLE IF EXISTS part11_chainhead;
"""


def audited_table(table: str, *, owner: str = "organization_id", partner: str = "", via: str = "",
                  via_key: str = "") -> migrations.RunSQL:
    """Attach the audit trigger to ``table`` (call it in the migration that creates the table).

    ``owner``/``partner`` name the columns holding the owning (and second, read-only) organization, on the row
    itself or, with ``via``/``via_key``, on the row ``via_key`` points at in table ``via``.
    """
    args = ", ".join(f"'{value}'" for value in (owner, partner, via, via_key))
    return migrations.RunSQL(
        f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION qms_audit({args});",
        f"DROP TRIGGER IF EXISTS {table}_audit ON {table};",
    )


@contextlib.contextmanager
def reason_for_change(reason: str) -> Iterator[None]:
    """Record ``reason`` on every audit event written inside the block (same transaction)."""
    if not connection.in_atomic_block:
        raise RuntimeError("reason_for_change() must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('qms.reason', true), '')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('qms.reason', %s, true)", [reason])
    try:
        yield
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('qms.reason', %s, true)", [previous])


def set_request_id(request_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('qms.request_id', %s, true)", [request_id])


VERIFY_SQL = """
WITH ordered AS (
    SELECT e.*, lag(e.hash) OVER (PARTITION BY e.organization_id ORDER BY e.seq) AS expected_prev,
           lag(e.seq) OVER (PARTITION BY e.organization_id ORDER BY e.seq) AS previous_seq
    FROM part11_auditevent e
)
SELECT organization_id, seq, id,
       CASE
         WHEN seq <> coalesce(previous_seq, 0) + 1 THEN 'gap in the sequence before this event'
         WHEN prev_hash <> coalesce(expected_prev, %(zero)s) THEN 'does not link to the previous event'
         WHEN hash <> qms_audit_hash(prev_hash, seq, organization_id, partner_organization_id, record_table,
                                     record_id, action, changes, actor_user_id, actor_membership_id, request_id,
                                     reason, occurred_at) THEN 'content does not match its hash'
       END AS problem
FROM ordered
ORDER BY organization_id NULLS FIRST, seq
"""


def verify_chains() -> tuple[int, list[tuple[int | None, int, int, str]]]:
    """Recompute every chain; return (events checked, first broken link per organization)."""
    with connection.cursor() as cursor:
        cursor.execute(VERIFY_SQL, {"zero": ZERO_HASH})
        rows = cursor.fetchall()
    broken: dict[int | None, tuple[int | None, int, int, str]] = {}
    for organization_id, seq, event_id, problem in rows:
        if problem and organization_id not in broken:
            broken[organization_id] = (organization_id, seq, event_id, problem)
    return len(rows), list(broken.values())
