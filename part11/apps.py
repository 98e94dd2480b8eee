from django.apps import AppConfig


class Part11Config(AppConfig):
    """Electronic records (21 CFR Part 11 / EU Annex 11): the database-level, hash-chained audit trail."""

    name = "part11"
    verbose_name = "Electronic records"
