"""What `make run` gives a newcomer (development only): the demo data, a demo agent and a demo manager with a
fresh password each, a token, and an appointment of their own to try the API on."""

import io
import secrets
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.services import api_token_create
from appointments.management.commands.seed_demo import DEMO_AGENT, DEMO_DEPARTMENT
from appointments.models import Department
from appointments.services import appointment_create

DEMO_MANAGER = "demo-manager"
DEMO_NAMES = {DEMO_AGENT: ("Dana", "Reid"), DEMO_MANAGER: ("Morgan", "Price")}
DEMO_BORN = date(1984, 3, 17)


class Command(BaseCommand):
    help = (
        "Development only (refused unless DEBUG is on): seed the demo data, give demo-agent and demo-manager a "
        "new password, issue a one-day token for demo-agent, book a new appointment to try the API on, and print "
        "it all, ending with an `export PORT=... TOKEN=... ID=...` line to paste."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_session makes known passwords: it runs only with DEBUG=1 (make run sets it).")
        call_command("seed_demo", stdout=io.StringIO())  # its sign-in hint is answered below
        department = Department.objects.get(name=DEMO_DEPARTMENT)
        users = get_user_model().objects
        passwords = {}
        for username, group in ((DEMO_AGENT, "Agents"), (DEMO_MANAGER, "Department managers")):
            user, _ = users.get_or_create(username=username, defaults={"is_staff": True})
            if not user.get_full_name():  # named, as the claimant's waiting room and the Timeline name them
                user.first_name, user.last_name = DEMO_NAMES[username]
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.is_staff = True
            user.save()
            user.groups.add(Group.objects.get(name=group))
            department.members.add(user)
            passwords[username] = password
        agent = users.get(username=DEMO_AGENT)
        _token, secret = api_token_create(user=agent, name="make run", expires_in=timedelta(days=1))
        start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        yours = appointment_create(
            department=department,
            appointment_at=start,
            duration_in_minutes=30,
            actor=agent,
            claimant={
                "name": "Your Claimant",
                "email": "claimant@example.com",
                "date_of_birth": DEMO_BORN,  # so the claimant's page asks for it, as a real one would
                "data": {"Case number": "TRY-1"},
            },
        )
        port = options["port"]
        self.stdout.write("")
        self.stdout.write(f"Back office: http://127.0.0.1:{port}/admin/")
        for username, password in passwords.items():
            self.stdout.write(f"  {username:<13} password {password}")
        self.stdout.write(
            f"As its claimant: http://127.0.0.1:{port}/join/{yours.public_token} "
            f"(its date of birth: {DEMO_BORN:%d/%m/%Y})"
        )
        self.stdout.write("The API, on an appointment of your own (docs/integrating.md); paste this first:")
        self.stdout.write(f"export PORT={port} TOKEN={secret} ID={yours.pk}")
