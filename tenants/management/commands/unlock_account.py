"""Platform support: clear a person's failed-login lockout, with a reason that is recorded."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants import rls, security
from tenants.models import User


class Command(BaseCommand):
    help = "Unlock an account locked after repeated failed logins (recorded as a security event)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why the account is unlocked (recorded)")
        parser.add_argument("--actor", default=None, help="Superuser performing the unlock (default: first one)")

    def handle(self, *args: Any, **options: Any) -> None:
        actors = User.objects.filter(is_superuser=True, is_active=True)
        actor = actors.filter(username=options["actor"]).first() if options["actor"] else actors.first()
        if actor is None:
            raise CommandError("No active superuser to record as the actor; pass --actor.")
        try:
            with transaction.atomic(), rls.system_context(f"unlock_account {options['username']}"):
                cleared = security.account_unlock(actor=actor, membership=None, username=options["username"],
                                                  reason=options["reason"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"unlocked {options['username']} ({cleared} attempt records cleared)")
