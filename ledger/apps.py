from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: an AppConfig module is imported before the models are.
        from ledger import context, digest
        from worker.sweep import Sweeper, register

        context.connect_worker_signals()
        register(Sweeper("ledger digest", digest.digest_requeue, digest.digest_stuck))
