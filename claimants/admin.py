"""Claimants and their data in the back office: listed here, changed on the appointment's page."""

from django.contrib import admin

from claimants.models import Claimant, ClaimantData
from config.admin import ReadOnlyAdmin


@admin.register(Claimant)
class ClaimantAdmin(ReadOnlyAdmin):
    list_display = ["name", "email", "phone_number", "date_of_birth", "appointment"]
    list_select_related = ["appointment__department"]  # the appointment is named with its local time
    search_fields = ["name", "email", "phone_number", "appointment__reference"]
    show_full_result_count = False


@admin.register(ClaimantData)
class ClaimantDataAdmin(ReadOnlyAdmin):
    department_path = "claimant__appointment__department"
    list_display = ["claimant", "field", "value"]
    list_select_related = ["claimant", "field"]
    search_fields = ["claimant__name", "field__name"]
    show_full_result_count = False
