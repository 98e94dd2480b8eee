from django.apps import AppConfig


class QmsConfig(AppConfig):
    """The project package as an app: it owns the cross-cutting tasks, health checks and the demo command."""

    name = "qms"
    verbose_name = "QMS platform"
