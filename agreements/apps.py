from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    """Executable quality agreements: the rule book of a partnership, as data the other apps obey."""

    name = "agreements"
    verbose_name = "Quality agreements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agreements import signing  # noqa: F401  (registers the signable records)
