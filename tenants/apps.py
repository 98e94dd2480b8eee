from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Organizations, sites, products, partnerships, memberships; owns isolation (DESIGN.md §3.2)."""

    name = "tenants"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tenants import schema, signals, signing  # noqa: F401  (receivers, OpenAPI extension, signables)

        post_migrate.connect(_sync_system_key, sender=self, dispatch_uid="qms_sync_system_key")


def _sync_system_key(sender: object, using: str = "default", **kwargs: object) -> None:
    """After every migrate (run as the owner), store the current system key's hash: a rotated SECRET_KEY
    takes effect at the next deploy's migrate."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if MigrationRecorder(connection).migration_qs.filter(app="tenants", name="0011_keyed_system_context").exists():
        module = __import__("tenants.migrations.0011_keyed_system_context", fromlist=["sync_system_key"])
        module.sync_system_key(connection)
