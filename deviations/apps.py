from django.apps import AppConfig


class DeviationsConfig(AppConfig):
    """Deviations: one record for all the sponsors it affects, each seeing only its own product lines."""

    name = "deviations"
    verbose_name = "Deviations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from deviations import signing  # noqa: F401  (registers the signable records)
