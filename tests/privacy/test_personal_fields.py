"""What is personal is declared on the columns, and every column is decided (issue 21.6)."""

from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from appointments.models import Department
from claimants.models import Claimant
from config.personal import Category, personal, personal_of
from privacy.catalogue import NOT_PERSONAL, unmarked
from tests.helpers import run_command
from webhooks.models import Endpoint

HOW_TO = "mark it personal on the field or review it as not personal (docs/adding-a-field.md, 'Personal data')"


def test_every_column_of_every_model_is_marked_personal_or_reviewed_as_not() -> None:
    undecided = {model._meta.label: names for model in apps.get_models() if (names := unmarked(model))}
    assert undecided == {}, f"{HOW_TO}: {undecided}"


def test_the_reviewed_lists_name_only_columns_that_exist_and_are_not_marked() -> None:
    for label, (reason, names) in NOT_PERSONAL.items():
        model = apps.get_model(label)
        columns = {field.name: field for field in model._meta.concrete_fields}
        assert reason
        assert names <= columns.keys(), f"{label}: no such columns {names - columns.keys()}"
        assert [name for name in names if personal_of(columns[name])] == [], f"{label}: marked and reviewed"


@isolate_apps("claimants")
def test_a_new_unmarked_column_is_named_until_it_is_decided() -> None:
    class Claimant(models.Model):  # noqa: DJ008 (the claimant as it is, and a column someone adds)
        name = personal(models.CharField(max_length=255), Category.NAME, "who")
        erased_at = models.DateTimeField(null=True)
        preferred_language = models.CharField(max_length=10)

        class Meta:
            app_label = "claimants"

    assert unmarked(Claimant) == ["preferred_language"]

    class Claimant2(models.Model):  # noqa: DJ008
        preferred_language = personal(models.CharField(max_length=10), Category.CONTACT, "how to write to them")

        class Meta:
            app_label = "claimants"

    assert unmarked(Claimant2) == ["id"]  # a model nobody reviewed: each of its columns, even its key


def test_history_columns_carry_their_live_columns_marks() -> None:
    history: Any = Claimant.history.model
    for name in ("name", "email", "phone_number", "date_of_birth"):
        live, copy = personal_of(Claimant._meta.get_field(name)), personal_of(history._meta.get_field(name))
        assert live is not None
        assert copy == live
    assert personal_of(history._meta.get_field("erased_at")) is None


@pytest.mark.django_db
def test_the_report_names_each_category_place_period_and_receiver(settings: Any) -> None:
    settings.PERSONAL_DATA_RETENTION_DAYS = 1000
    department = Department.objects.create(name="Claims")
    Endpoint.objects.create(department=department, url="https://crm.example/hooks", event_types=["appointment.created"])
    lines = run_command("personal_data_report")
    text = "\n".join(lines)
    for category in (Category.NAME, Category.CONTACT, Category.DATE_OF_BIRTH, Category.CASE_DATA, Category.COPY):
        assert f"## {category.value}" in lines
    assert any(line.startswith("- claimants_claimant.email (claimants.Claimant): ") for line in lines)
    assert any(
        line.startswith("- claimants_historicalclaimant.date_of_birth (") and "every version" in line for line in lines
    )
    assert "- events_event.data (events.Event): what was sent to the department's webhook endpoints" in lines
    assert "- By default: 1000 days after the appointment ends (PERSONAL_DATA_RETENTION_DAYS)." in lines
    assert "- Claims: webhook endpoint https://crm.example/hooks: appointment.created." in lines
    assert "claimants_claimant.erased_at" not in text
    assert "appointments_appointment.appointment_at" not in text
