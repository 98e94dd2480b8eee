"""Django admin for the platform superuser: set up organizations, partnerships and people."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from tenants.models import Membership, MembershipToken, Organization, Partnership, Product, Site, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "country", "fei_number", "is_active"]
    list_filter = ["country", "is_active"]
    list_select_related = ["organization"]
    search_fields = ["name", "fei_number"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "organization", "modality", "is_active"]
    list_filter = ["modality", "is_active"]
    list_select_related = ["organization"]
    search_fields = ["name", "code"]


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["__str__", "stage", "tier", "start_date", "end_date"]
    list_filter = ["stage", "tier"]
    list_select_related = ["sponsor", "cmo"]
    filter_horizontal = ["sites", "products"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["role", "is_active", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "organization__slug"]


@admin.register(MembershipToken)
class MembershipTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["membership__user", "membership__organization"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]
