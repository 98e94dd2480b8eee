"""Django admin for the platform superuser: every organization's permanent e-mail failures, read-only clocks.

Tenants see their own failures on the "E-mail failures" page; this is the platform operator's view across them.
Nothing here edits a deadline (deadlines change only through clocks.services, which audits the reason).
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clocks.models import Deadline, DeliveryAttempt, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "channel", "outcome", "error", "worker"]
    fields = ["attempted_at", "channel", "outcome", "error", "worker"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "user", "subject", "email_state", "email_attempts", "last_error"]
    list_filter = ["email_state", "level"]
    list_select_related = ["organization", "user"]
    search_fields = ["subject", "user__email"]
    inlines = [AttemptInline]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["due_at", "title", "subject_label", "organization", "state"]
    list_filter = ["state", "rule_code"]
    list_select_related = ["organization"]
    search_fields = ["title", "subject_label"]
