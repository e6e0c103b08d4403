"""Back-office list views. Appointments and their parts are read-only here until the staff back office
(a later issue) edits them through the same services as the API; until then no admin edit can bypass a rule."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from appointments.models import ApiToken, Appointment, Department
from claimants.models import ClaimantDataField


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClaimantDataFieldInline(admin.TabularInline):
    model = ClaimantDataField
    extra = 0
    fields = ["position", "name", "type", "required"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    inlines = [ClaimantDataFieldInline]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["appointment_at", "reference", "status", "department", "claimant_name", "is_interpreter_needed"]
    list_filter = ["status", "department", "is_interpreter_needed"]
    list_select_related = ["department", "claimant"]
    search_fields = ["reference", "claimant__name", "claimant__email", "claimant__phone_number"]
    date_hierarchy = "appointment_at"
    show_full_result_count = False

    @admin.display(description="claimant", ordering="claimant__name")
    def claimant_name(self, obj: Appointment) -> str:
        return obj.claimant.name


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["token_key", "user", "name", "created", "last_used_at", "expiry", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "token_key"]
    exclude = ["digest"]
