"""``migrate`` always runs as the owner role: the application role may not create or alter tables."""

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand

from qms.dbroles import as_owner


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options.get("database") or "default"):
            super().handle(*args, **options)
