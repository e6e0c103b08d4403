"""Departments in the back office: their members (a superuser's to grant), default features, zone, reminders,
contact details and the claimant data fields they collect (written through the claimant services)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.db.models import CharField, Field, QuerySet
from django.forms import BaseInlineFormSet, ModelForm, TextInput
from django.forms import Field as FormField
from django.http import HttpRequest

from appointments.admin.hours import HOURS_INLINES
from appointments.features import FEATURE_LABELS
from appointments.forms import ClaimantDataFieldForm
from appointments.models import FEATURE_FIELDS, Department
from appointments.retention import oldest_erased_on, retention_days
from appointments.selectors import departments_counted
from claimants.models import ClaimantDataField
from claimants.services import claimant_data_field_added, claimant_data_field_change
from config.admin import TabularInline, scoped
from config.local_time import local_label

# Text fields this long or longer are edited in Django's wide input (48em, the page's width on a phone).
_WIDE = 200
# A data field's columns staff edit on the department's page, and so the ones a save hands the claimant services.
DATA_FIELD_COLUMNS = ("position", "name", "type", "required")


class ClaimantDataFieldInline(TabularInline):
    model = ClaimantDataField
    form = ClaimantDataFieldForm
    extra = 0
    fields = DATA_FIELD_COLUMNS
    ordering = ["position", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "field_count", "contact_details", "features_bandwidth"]
    # Save at the top too: below the hours, the fields and the contact details it was 160 Tab presses away.
    save_on_top = True

    def formfield_for_dbfield(self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any) -> FormField | None:
        if db_field.name in FEATURE_LABELS:
            kwargs["label"] = FEATURE_LABELS[db_field.name]
        if type(db_field) is CharField and not db_field.choices and (db_field.max_length or 0) >= _WIDE:
            # The name and the texts for claimants: the admin's 20em input showed about 35 of their characters. The
            # Welsh ones (appointments.contact.welsh_of, `_cy`) are typed in Welsh: read and spell-checked as Welsh.
            welsh = {"lang": "cy"} if db_field.name.endswith("_cy") else {}
            kwargs["widget"] = TextInput(attrs={"class": "vLargeTextField", **welsh})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    search_fields = ["name"]
    filter_horizontal = ["members"]
    inlines = [ClaimantDataFieldInline, *HOURS_INLINES]
    fieldsets = [
        (None, {"fields": ["name", "name_cy", "members"]}),
        ("Default features of new appointments", {"fields": list(FEATURE_FIELDS)}),
        ("Local time and the claimant's reminders", {"fields": ["time_zone", "reminder_hours"]}),
        ("The claimant's language", {"fields": ["default_language", "bilingual"]}),
        ("Staff's calendar feeds", {"fields": ["calendar_feed_shows_names"]}),
        (
            "Keeping claimants' personal data",
            {
                "fields": ["retention_days", "retention_summary"],
                "description": "Each appointment's claimant data (name, contact details, date of birth, data values, "
                "and every copy) is erased this many days after the appointment ends, unless it is on legal "
                "hold; blank for the service's default (PERSONAL_DATA_RETENTION_DAYS).",
            },
        ),
        (
            "How claimants contact the department",
            {
                "fields": [
                    "contact_phone",
                    "contact_email",
                    "contact_hours",
                    "contact_hours_cy",
                    "contact_help",
                    "contact_help_cy",
                ],
                "description": "Shown on every page a claimant sees and in every message they get. Without any, "
                "they see the organisation's own details (CONTACT_* settings) or are asked to contact the "
                "department the way they were booked.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return departments_counted(scoped(super().get_queryset(request), request, "pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Department | None = None) -> list[str]:
        # Membership decides what a user reaches: only a superuser grants it.
        return ["retention_summary"] if request.user.is_superuser else ["name", "members", "retention_summary"]

    @admin.display(description="oldest erased on")
    def retention_summary(self, obj: Department) -> str:
        if obj.pk is None:
            return "—"
        days = retention_days(obj)
        when = oldest_erased_on(obj)
        kept = f"{days} days after each appointment ends"
        if when is None:
            return f"{kept}; no appointment's claimant data is kept now."
        return f"{kept}; the oldest kept now is erased {local_label(when, ZoneInfo(obj.time_zone))}."

    # `obj: Any`: a Department with departments_counted's annotations (get_queryset), which its type does not know.
    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_total)

    @admin.display(description="contact details")
    def contact_details(self, obj: Department) -> str:
        shown = [obj.contact_phone, obj.contact_email] if obj.contact_phone or obj.contact_email else []
        return ", ".join(shown) or ("Opening hours only" if obj.contact_hours else "No contact details")

    @admin.display(description="claimant data fields", ordering="field_total")
    def field_count(self, obj: Any) -> int:
        return int(obj.field_total)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm[Department],
        formset: BaseInlineFormSet[ClaimantDataField, Department, ModelForm[ClaimantDataField]],
        change: bool,
    ) -> None:
        if formset.model is not ClaimantDataField:  # the booking rules and hours: rows of their own (issue 23.1)
            super().save_formset(request, form, formset, change)
            return
        # Data fields are written by the claimant services: a changed field re-checks and converts the values it
        # holds, a new one gives every claimant of the department an empty item.
        for data_field in formset.save(commit=False):
            if data_field.pk is not None and not data_field._state.adding:
                changes = {name: getattr(data_field, name) for name in DATA_FIELD_COLUMNS}
                claimant_data_field_change(data_field=data_field, changes=changes, actor=request.user)
            else:
                data_field.save()
                claimant_data_field_added(data_field=data_field, actor=request.user)
        for deleted in formset.deleted_objects:
            deleted.delete()
