"""Every model with a personal column is reached by the erasure and the export (issue 21.2, 21.3)."""

from django.apps import apps

from config.personal import personal_fields
from privacy.erasure_scopes import SCOPES, searched_whole


def test_every_model_with_a_personal_column_has_an_erasure_scope() -> None:
    unreached = [
        model._meta.label
        for model in apps.get_models()
        if personal_fields(model) and model not in SCOPES and not searched_whole(model)
    ]
    assert unreached == [], f"give each a scope in privacy/erasure_scopes.py (its rows of one appointment): {unreached}"


def test_only_copies_are_searched_for_instead_of_scoped() -> None:
    searched = [model._meta.label for model in apps.get_models() if model not in SCOPES and searched_whole(model)]
    assert sorted(searched) == ["admin.LogEntry", "django_tasks_database.DBTaskResult"]
