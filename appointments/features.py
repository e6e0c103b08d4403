"""The meeting features an appointment is held with, and which a department gives its new appointments."""

from __future__ import annotations

from django.db import models


class Bandwidth(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FeatureSettings(models.Model):
    """The meeting features of an appointment; a department holds the defaults for its new appointments."""

    features_call_recording_enable = models.BooleanField(default=False)
    features_breakout_room_enable = models.BooleanField(default=True)
    features_webcam_access_agent_enable = models.BooleanField(default=True)
    features_webcam_access_claimant_enable = models.BooleanField(default=True)
    features_webcam_background_blurring_enable = models.BooleanField(default=True)
    features_microphone_access_enable = models.BooleanField(default=True)
    features_screen_sharing_enable = models.BooleanField(default=True)
    features_messages_chat_enable = models.BooleanField(default=True)
    features_participant_list_enable = models.BooleanField(default=True)
    features_bandwidth = models.CharField(max_length=10, choices=Bandwidth.choices, default=Bandwidth.HIGH)

    class Meta:
        abstract = True


# The feature columns, in their declared order (the representation's order).
FEATURE_FIELDS = tuple(field.name for field in FeatureSettings._meta.fields)
# What the back office calls them (the API keeps the contract's names).
FEATURE_LABELS = {
    "features_call_recording_enable": "Call recording",
    "features_breakout_room_enable": "Breakout rooms",
    "features_webcam_access_agent_enable": "Agent's camera",
    "features_webcam_access_claimant_enable": "Claimant's camera",
    "features_webcam_background_blurring_enable": "Background blur",
    "features_microphone_access_enable": "Microphones",
    "features_screen_sharing_enable": "Screen sharing",
    "features_messages_chat_enable": "Chat",
    "features_participant_list_enable": "Participant list",
    "features_bandwidth": "Video quality",
}
