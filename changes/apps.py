from django.apps import AppConfig


class ChangesConfig(AppConfig):
    """Change control: impact and filing-trigger assessment, sponsor approval routed from the agreement."""

    name = "changes"
    verbose_name = "Change control"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from changes import signing  # noqa: F401  (registers the signable change requests and approvals)
