"""``flush`` runs as the owner role: the application role has no TRUNCATE, which would bypass row-level security.

Flushing deliberately destroys data (tests, development). It is the one operation allowed to empty the audit
trail: the owner lifts the append-only guard for the duration and resets the chains with it.
"""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from qms.dbroles import as_owner

GUARDS = ("part11_auditevent_append_only", "part11_auditevent_no_truncate")


class Command(FlushCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        alias = options.get("database") or "default"
        with as_owner(alias):
            connection = connections[alias]
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass('part11_chainhead') IS NOT NULL")
                audited = cursor.fetchone()[0]
                if audited:
                    for guard in GUARDS:
                        cursor.execute(f"ALTER TABLE part11_auditevent DISABLE TRIGGER {guard}")
            try:
                super().handle(*args, **options)
                if audited:
                    with connection.cursor() as cursor:
                        cursor.execute("TRUNCATE part11_chainhead")
            finally:
                if audited:
                    with connection.cursor() as cursor:
                        for guard in GUARDS:
                            cursor.execute(f"ALTER TABLE part11_auditevent ENABLE TRIGGER {guard}")
