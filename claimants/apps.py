from django.apps import AppConfig


class ClaimantsConfig(AppConfig):
    name = "claimants"
    default_auto_field = "django.db.models.BigAutoField"
