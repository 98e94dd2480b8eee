"""Load the demo cast; safe to run on every start (it converges to the cast instead of duplicating it)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tenants import demo, rls
from tenants.models import AccessGrant, Membership, Organization, Partnership, Product, Site, User


class Command(BaseCommand):
    help = "Create or refresh the demo organizations, sites, products, partnerships and users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", help="Password for every demo user (default: DEMO_PASSWORD or var/)")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the logins table")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        with rls.system_context("seed_demo: load the demo cast"):
            self._seed(options)

    def _seed(self, options: dict[str, Any]) -> None:
        password = options["password"] or demo.demo_password(settings.VAR_DIR, os.environ.get("DEMO_PASSWORD"))
        orgs = {
            spec.slug: Organization.objects.update_or_create(
                slug=spec.slug, defaults={"name": spec.name, "kind": spec.kind, "is_active": True}
            )[0]
            for spec in demo.ORGANIZATIONS
        }
        sites = {
            spec.name: Site.objects.update_or_create(
                organization=orgs[spec.org], name=spec.name,
                defaults={"country": spec.country, "fei_number": spec.fei_number, "address": spec.address,
                          "activities": list(spec.activities)},
            )[0]
            for spec in demo.SITES
        }
        products = {
            spec.code: Product.objects.update_or_create(
                organization=orgs[spec.org], code=spec.code,
                defaults={"name": spec.name, "dosage_form": spec.dosage_form, "modality": spec.modality,
                          "markets": list(spec.markets)},
            )[0]
            for spec in demo.PRODUCTS
        }
        for pspec in demo.PARTNERSHIPS:
            partnership, _ = Partnership.objects.update_or_create(
                sponsor=orgs[pspec.sponsor], cmo=orgs[pspec.cmo],
                defaults={"stage": pspec.stage, "tier": pspec.tier, "start_date": pspec.start_date},
            )
            partnership.sites.set([sites[name] for name in pspec.sites])
            partnership.products.set([products[code] for code in pspec.products])
        for uspec in demo.USERS:
            user, _ = User.objects.update_or_create(
                username=uspec.username,
                defaults={"first_name": uspec.first_name, "last_name": uspec.last_name, "email": uspec.email,
                          "is_active": True},
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            Membership.objects.update_or_create(
                user=user, organization=orgs[uspec.org], defaults={"role": uspec.role, "is_active": True}
            )
        # Northwind lets Helix's auditor read the Northwind ↔ Acme partnership for the next 30 days.
        now = timezone.now()
        AccessGrant.objects.update_or_create(
            organization=orgs["northwind"], grantee=Membership.objects.get(user__username="auditor"),
            partnership=Partnership.objects.get(sponsor=orgs["northwind"], cmo=orgs["acme"]),
            reason="Demo: joint audit of Acme Cork, ref AUD-2026-07",
            defaults={"grantor": Membership.objects.get(user__username="northwind.qa"),
                      "grantor_label": "Nora Whitfield (Northwind Biologics)", "grantee_label": "auditor@helix",
                      "starts_at": now - timedelta(days=1), "expires_at": now + timedelta(days=30),
                      "revoked_at": None, "expired_at": None},
        )
        admin, _ = User.objects.update_or_create(
            username=demo.SUPERUSER,
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com",
                      "first_name": "Platform", "last_name": "Administrator", "is_active": True},
        )
        admin.set_password(password)
        admin.save(update_fields=["password"])
        from agreements.demo import seed_agreements
        from batches.demo import seed_batches
        from changes.demo import REVIEWERS, seed_changes
        from clocks.demo import seed_deadlines
        from deviations.demo import seed_deviations
        from inspections.demo import seed_inspections

        seed_deadlines(orgs)
        seed_agreements(password)
        seed_deviations(password)
        seed_batches(password)
        seed_changes(password)
        seed_inspections()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(orgs)} organizations, {len(sites)} sites, {len(products)} products, "
            f"{len(demo.PARTNERSHIPS)} partnerships, {len(demo.USERS) + len(REVIEWERS) + 1} users."
        ))
        if not options["quiet_logins"]:
            self.stdout.write(format_logins(password))


def format_logins(password: str) -> str:
    from changes.demo import REVIEWERS

    rows = [(spec.username, spec.org, spec.role) for spec in (*demo.USERS, *REVIEWERS)]
    rows.append((demo.SUPERUSER, "-", "superuser"))
    lines = [f"Demo logins (password for all: {password})", f"  {'username':<18}{'organization':<14}role"]
    lines += [f"  {u:<18}{o:<14}{r}" for u, o, r in rows]
    return "\n".join(lines)
