from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    """Regulator inspections and Form 483s: the agency response and every affected sponsor's clock."""

    name = "inspections"
    verbose_name = "Inspections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inspections import signing  # noqa: F401  (registers the signable Form 483 response)
