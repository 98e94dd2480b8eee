"""Database side of electronic signatures: any change to a signed record (or to what its content includes)
voids its live signatures, in the same transaction, so the voiding is itself an audit event."""

from django.db import migrations

VOID_SQL = r"""
CREATE OR REPLACE FUNCTION qms_void_signatures() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    row_data jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    key_value bigint;
BEGIN
    -- TG_ARGV: signed table, column holding the signed record's id, optional filter column and value.
    IF TG_OP = 'UPDATE' AND to_jsonb(OLD) = to_jsonb(NEW) THEN
        RETURN NULL;
    END IF;
    IF TG_NARGS >= 4 AND TG_ARGV[2] <> '' AND (row_data ->> TG_ARGV[2]) IS DISTINCT FROM TG_ARGV[3] THEN
        RETURN NULL;
    END IF;
    key_value := (row_data ->> TG_ARGV[1])::bigint;
    UPDATE part11_signature
       SET voided_at = clock_timestamp(),
           void_reason = format('%s changed after signing (%s on %s)', TG_ARGV[0], lower(TG_OP), TG_TABLE_NAME)
     WHERE record_table = TG_ARGV[0] AND record_id = key_value AND voided_at IS NULL;
    RETURN NULL;
END
$$;
"""


def voids_signatures(table: str, *, signed_table: str, key: str = "id", only_if: tuple[str, str] = ("", "")
                     ) -> migrations.RunSQL:
    """Changes to ``table`` void live signatures on ``signed_table`` rows whose id is in column ``key``."""
    args = ", ".join(f"'{value}'" for value in (signed_table, key, *only_if))
    name = f"{table}_voids_{signed_table}"[:63]
    return migrations.RunSQL(
        f"CREATE TRIGGER {name} AFTER UPDATE OR DELETE OR INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION qms_void_signatures({args});",
        f"DROP TRIGGER IF EXISTS {name} ON {table};",
    )
