"""Recompute every organization's audit chain and report the first broken link (exit status 1 if any)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from part11.audit import verify_chains
from tenants import rls


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; report the first broken link of each organization."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(), rls.system_context("verify_audit_trail"):
            checked, broken = verify_chains()
        if not broken:
            self.stdout.write(self.style.SUCCESS(f"audit trail intact: {checked} events checked"))
            return
        for organization_id, seq, event_id, problem in broken:
            chain = "platform" if organization_id is None else f"organization {organization_id}"
            self.stdout.write(self.style.ERROR(f"{chain}: first broken link at seq {seq} (event {event_id}): "
                                               f"{problem}"))
        raise CommandError(f"audit trail broken in {len(broken)} chain(s); {checked} events checked")
