from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Organizations, sites, products, partnerships, memberships; owns isolation (DESIGN.md §3.2)."""

    name = "tenants"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from tenants import schema, signals  # noqa: F401  (connects receivers, registers the OpenAPI extension)
