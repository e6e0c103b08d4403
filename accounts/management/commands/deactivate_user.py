"""A staff member leaves: deactivate them and end everything of theirs in one step (issue 25.3)."""

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import user_deactivate


class Command(BaseCommand):
    help = (
        "Deactivate USERNAME: they can no longer sign in, their sessions end, their API tokens are revoked (kept on "
        "record), and their appointments that have not started are listed for a manager to reassign."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user with the username {options['username']!r}.") from None
        leaving = user_deactivate(user=user)
        self.stdout.write(
            f"{user.get_username()} deactivated: {leaving.sessions_ended} session(s) ended, "
            f"{leaving.tokens_revoked} API token(s) revoked."
        )
        for name, count in leaving.ended_elsewhere.items():
            self.stdout.write(f"{name}: {count} ended.")
        if leaving.to_reassign:
            self.stdout.write(
                f"{len(leaving.to_reassign)} appointment(s) to reassign (the back office lists them under "
                '"Needs attention"):'
            )
            for appointment in leaving.to_reassign:
                self.stdout.write(f"  {appointment.pk}  {appointment.appointment_at:%Y-%m-%d %H:%M} UTC")
