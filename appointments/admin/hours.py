"""A department's booking rules, working hours and days that differ, edited on its page in the back office
(issue 23.1) by whoever may change the department (its managers; tenancy is the department admin's). An agent is
chosen among the department's staff; the models' clean() refuses anyone else."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest

from appointments.availability import BookingRules, HoursException, WorkingHours
from appointments.forms import staff_name
from config.admin import TabularInline


class _AgentChoice(TabularInline):
    extra = 0

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "agent":
            department = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_staff=True, departments=department)
                .order_by("first_name", "last_name", "username")
            )
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            if field is not None:
                field.label_from_instance = staff_name  # type: ignore[method-assign,assignment]
                field.empty_label = "The whole department"
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BookingRulesInline(admin.StackedInline):
    model = BookingRules
    can_delete = False
    max_num = 1
    fields = [
        "slot_minutes",
        ("buffer_before_minutes", "buffer_after_minutes"),
        ("notice_to_book_minutes", "notice_to_reschedule_minutes", "notice_to_cancel_minutes"),
        "horizon_days",
        "max_claimant_reschedules",
    ]


class WorkingHoursInline(_AgentChoice):
    model = WorkingHours
    fields = ["agent", "weekday", "starts_at", "ends_at"]
    verbose_name_plural = "working hours (in the department's time zone)"


class HoursExceptionInline(_AgentChoice):
    model = HoursException
    fields = ["agent", "day", "kind", "starts_at", "ends_at", "note"]
    verbose_name_plural = "days that differ (leave, bank holidays, a late day)"


HOURS_INLINES = [BookingRulesInline, WorkingHoursInline, HoursExceptionInline]
