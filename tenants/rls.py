"""PostgreSQL row-level security: the acting context, the system context, and the migration helper.

Layer 2 of DESIGN.md §3.2. Every tenant-owned table has ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and four
policies (SELECT, INSERT, UPDATE, DELETE) written with :func:`tenant_table_policies`. The policies read the
acting context from transaction-local settings, set here with ``set_config(name, value, is_local => true)``
(``SET LOCAL``) inside the request's or the task's transaction:

- ``qms.user_id``        the authenticated user (lets a person find their own memberships before choosing one);
- ``qms.org_id``         the acting organization (what it owns and what its partnerships let it see);
- ``qms.membership_id``  the acting membership (per-object grants are made to a membership);
- ``qms.system``         only inside :func:`system_context`, the one named, logged escape for platform jobs
                         that must cross tenants (the clock sweep, grant expiry, seeding). It holds
                         ``settings.QMS_SYSTEM_KEY``; ``qms_system()`` accepts it only if its SHA-256 is in
                         ``qms_system_key``, a table the application role cannot read, so SQL injected as the
                         app role cannot switch the policies off. The owner role (migrations, the narrow
                         SECURITY DEFINER lookups) passes too.

With nothing set every policy is false: a query outside a context returns no rows and a write fails.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, migrations, transaction

if TYPE_CHECKING:
    from tenants.models import Membership

T = TypeVar("T")

logger = logging.getLogger("qms.security")

_KEYS = ("qms.user_id", "qms.org_id", "qms.membership_id", "qms.system")


@dataclass(frozen=True)
class Context:
    user_id: int | None = None
    organization_id: int | None = None
    membership_id: int | None = None
    system: bool = False

    def values(self) -> tuple[str, str, str, str]:
        def text(value: int | None) -> str:
            return "" if value is None else str(int(value))

        from django.conf import settings

        system = settings.QMS_SYSTEM_KEY if self.system else ""
        return text(self.user_id), text(self.organization_id), text(self.membership_id), system


def _set(context: Context, *, local: bool = True) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('qms.user_id', %s, %s), set_config('qms.org_id', %s, %s), "
            "set_config('qms.membership_id', %s, %s), set_config('qms.system', %s, %s)",
            [v for value in context.values() for v in (value, local)],
        )


def current() -> Context:
    """The context in force on this connection (for tests and assertions)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{key}', true)" for key in _KEYS))
        user, org, membership, system = cursor.fetchone()
    from django.conf import settings

    return Context(
        user_id=int(user) if user else None,
        organization_id=int(org) if org else None,
        membership_id=int(membership) if membership else None,
        system=bool(system) and system == settings.QMS_SYSTEM_KEY,
    )


def activate(*, user_id: int | None = None, organization_id: int | None = None,
             membership_id: int | None = None) -> None:
    """Make this the acting context for the rest of the current transaction (``SET LOCAL``).

    Must run inside a transaction: outside one, a local setting would end with the very statement that set it,
    and every later query would see nothing (failing closed, but uselessly).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("tenants.rls.activate() must run inside transaction.atomic()")
    _set(Context(user_id=user_id, organization_id=organization_id, membership_id=membership_id))


def activate_membership(membership: Membership) -> None:
    activate(user_id=membership.user_id, organization_id=membership.organization_id, membership_id=membership.pk)


@contextlib.contextmanager
def scoped(context: Context) -> Iterator[None]:
    """Run a block in ``context`` and put back whatever was in force before (requests, tasks, tests)."""
    if not connection.in_atomic_block:
        raise RuntimeError("tenants.rls.scoped() must run inside transaction.atomic()")
    previous = current()
    _set(context)
    try:
        yield
    finally:
        if connection.in_atomic_block and not connection.needs_rollback:
            _set(previous)


@contextlib.contextmanager
def system_context(reason: str, *, session_level: bool = False) -> Iterator[None]:
    """The one named escape hatch: policies let everything through. Every use is logged with its reason.

    ``session_level`` (for tests in autocommit mode only) sets the flag for the whole connection instead of
    the transaction, and clears it on exit.
    """
    if not reason:
        raise ValueError("system_context needs a reason; it is logged")
    logger.info("system context entered: %s", reason)
    if session_level:
        previous = current()
        _set(Context(system=True), local=False)
        try:
            yield
        finally:
            _set(previous, local=False)
        return
    with scoped(Context(system=True)):
        yield


def tenant_task(func: Callable[..., T]) -> Callable[..., T]:
    """Run a Celery task body in one transaction acting for the organization named in its ``organization_id``.

    Tasks carry ids, never objects, and never rely on a context left on a pooled connection: every run sets
    the context from its own explicit arguments (DESIGN.md §5 "Tasks are thin").
    """

    @functools.wraps(func)
    def run(*args: Any, organization_id: int, membership_id: int | None = None, **kwargs: Any) -> T:
        if not organization_id:
            raise ValueError(f"{func.__name__} needs an explicit organization_id")
        with transaction.atomic(), scoped(Context(organization_id=organization_id, membership_id=membership_id)):
            return func(*args, organization_id=organization_id, membership_id=membership_id, **kwargs)

    return run


def clear() -> None:
    """Drop any context (``RESET``-like); later queries on this transaction see nothing."""
    _set(Context())


# --- Migration helpers ------------------------------------------------------------------------------------

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION qms_setting_id(name text) RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting(name, true), '')::bigint $$;
CREATE OR REPLACE FUNCTION qms_user() RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT qms_setting_id('qms.user_id') $$;
CREATE OR REPLACE FUNCTION qms_org() RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT qms_setting_id('qms.org_id') $$;
CREATE OR REPLACE FUNCTION qms_membership() RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT qms_setting_id('qms.membership_id') $$;
CREATE OR REPLACE FUNCTION qms_system() RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('qms.system', true), '') = 'on' $$;
"""

FUNCTIONS_REVERSE_SQL = """
DROP FUNCTION IF EXISTS qms_system(); DROP FUNCTION IF EXISTS qms_membership(); DROP FUNCTION IF EXISTS qms_org();
DROP FUNCTION IF EXISTS qms_user(); DROP FUNCTION IF EXISTS qms_setting_id(text);
"""


#: The system arm of every policy: a scalar subquery, so PostgreSQL evaluates it once per query (an InitPlan),
#: not once per row.
SYSTEM = "(SELECT qms_system())"


def tenant_table_policies(table: str, *, select: str, write: str | None, insert: str | None = None
                          ) -> list[migrations.RunSQL]:
    """ENABLE + FORCE row-level security on ``table`` with separate SELECT and write policies.

    ``select`` is the visibility predicate (own rows plus partner-visible rows); ``write`` the predicate for
    UPDATE and DELETE (and INSERT unless ``insert`` differs); ``None`` means tenants never write the table.
    Every predicate is OR-ed with ``qms_system()``. Later apps call this from their own migrations.
    """

    def allow(predicate: str | None) -> str:
        return f"({SYSTEM})" if predicate is None else f"({SYSTEM} OR ({predicate}))"

    insert_predicate = insert if insert is not None else write
    forward = f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
        CREATE POLICY {table}_select ON {table} FOR SELECT USING {allow(select)};
        CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK {allow(insert_predicate)};
        CREATE POLICY {table}_update ON {table} FOR UPDATE USING {allow(write)} WITH CHECK {allow(write)};
        CREATE POLICY {table}_delete ON {table} FOR DELETE USING {allow(write)};
    """
    reverse = f"""
        DROP POLICY IF EXISTS {table}_select ON {table}; DROP POLICY IF EXISTS {table}_insert ON {table};
        DROP POLICY IF EXISTS {table}_update ON {table}; DROP POLICY IF EXISTS {table}_delete ON {table};
        ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
    """
    return [migrations.RunSQL(forward, reverse)]


def attached_record_policies(table: str) -> list[migrations.RunSQL]:
    """Policies for rows attached to another record (files, signatures, exports, reviews): visible exactly where
    that record is (``qms_row_visible`` asks the record's own table), written by the acting organization only for
    a record it can see, never changed or deleted by tenants."""
    return tenant_table_policies(
        table,
        select="organization_id = qms_org() OR qms_row_visible(record_table, record_id)",
        write=None,
        insert="organization_id = qms_org() AND qms_row_visible(record_table, record_id)",
    )


def replace_select_policy(table: str, select: str, previous: str) -> migrations.RunSQL:
    """Widen or narrow a table's visibility in a later migration (reversible to ``previous``)."""

    def sql(predicate: str) -> str:
        return (f"DROP POLICY IF EXISTS {table}_select ON {table}; "
                f"CREATE POLICY {table}_select ON {table} FOR SELECT USING ({SYSTEM} OR ({predicate}));")

    return migrations.RunSQL(sql(select), sql(previous))


def grant_app_role_sql(role: str | None, owner: str | None) -> tuple[str, str]:
    """Let the application role use (never own) what the owner creates, now and in later migrations."""
    if not role or role == owner:
        return "SELECT 1", "SELECT 1"
    quoted = '"' + role.replace('"', '""') + '"'
    forward = f"""
        GRANT USAGE ON SCHEMA public TO {quoted};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted};
    """
    reverse = f"""
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {quoted};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {quoted};
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted};
    """
    return forward, reverse
