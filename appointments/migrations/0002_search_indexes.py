"""A trigram index for searching references (see config.migration_helpers.trigram_indexes)."""

from django.db import migrations

from config.migration_helpers import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [trigram_indexes({"appointment_reference_trgm": ("appointments_appointment", "reference")})]
