"""``flush`` runs as the owner role: the application role has no TRUNCATE, which would bypass row-level security."""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand

from qms.dbroles import as_owner


class Command(FlushCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options.get("database") or "default"):
            super().handle(*args, **options)
