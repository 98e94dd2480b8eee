from django.apps import AppConfig


class CapaConfig(AppConfig):
    """Corrective and preventive actions with effectiveness checks."""

    name = "capa"
    verbose_name = "CAPA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from capa import signing  # noqa: F401  (registers the signable records)
