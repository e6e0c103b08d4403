"""Trigram indexes for searching claimants by name, email and phone (see config.migration_helpers)."""

from django.db import migrations

from config.migration_helpers import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("claimants", "0001_initial")]
    operations = [
        trigram_indexes(
            {
                "claimant_name_trgm": ("claimants_claimant", "name"),
                "claimant_email_trgm": ("claimants_claimant", "email"),
                "claimant_phone_trgm": ("claimants_claimant", "phone_number"),
            }
        )
    ]
