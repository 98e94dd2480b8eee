from django.apps import AppConfig


class ClocksConfig(AppConfig):
    name = "clocks"
    verbose_name = "Clocks and notifications"
    default_auto_field = "django.db.models.BigAutoField"
