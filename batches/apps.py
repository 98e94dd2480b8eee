from django.apps import AppConfig


class BatchesConfig(AppConfig):
    """Batch records and their release chain: the CMO's record, each party's signed disposition."""

    name = "batches"
    verbose_name = "Batch records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from batches import signing  # noqa: F401  (registers the signable dispositions)
