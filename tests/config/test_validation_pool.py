"""Serializers reused per thread (config.api.validation) check each body afresh."""

import threading

import pytest
from rest_framework.exceptions import ValidationError

from appointments.api.serializers import AppointmentUpdateSerializer
from config.api.validation import validated


def test_each_body_is_checked_on_its_own() -> None:
    first = validated(AppointmentUpdateSerializer, {"duration_in_minutes": 30, "claimant": {"name": "A"}}, partial=True)
    first_data = first.validated_data
    with pytest.raises(ValidationError) as refused:
        validated(AppointmentUpdateSerializer, {"duration_in_minutes": 1}, partial=True)
    assert set(refused.value.detail) == {"duration_in_minutes"}
    second = validated(AppointmentUpdateSerializer, {"status": "waiting"}, partial=True)
    assert second is first  # the same instance, its fields built once
    assert dict(second.validated_data) == {"status": "waiting"}  # nothing of the earlier bodies
    assert dict(first_data) == {"duration_in_minutes": 30, "claimant": {"name": "A"}}  # what was read stays


def test_options_and_threads_have_their_own() -> None:
    partial = validated(AppointmentUpdateSerializer, {"status": "waiting"}, partial=True)
    with pytest.raises(ValidationError):  # not partial: every field is required
        validated(AppointmentUpdateSerializer, {"status": "waiting"})
    assert validated(AppointmentUpdateSerializer, {"status": "waiting"}, partial=True) is partial
    elsewhere = []
    thread = threading.Thread(
        target=lambda: elsewhere.append(validated(AppointmentUpdateSerializer, {"status": "waiting"}, partial=True))
    )
    thread.start()
    thread.join()
    assert elsewhere[0] is not partial
