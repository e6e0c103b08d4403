"""Issue an API bearer token for a user, optionally creating the user and adding it to departments."""

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.groups import GROUPS
from accounts.services import api_token_create
from appointments.models import Department

DEFAULT_EXPIRY_DAYS = 365


def find_department(name_or_id: str) -> Department:
    try:
        return Department.objects.get(pk=uuid.UUID(name_or_id))
    except (ValueError, Department.DoesNotExist):
        pass
    try:
        return Department.objects.get(name=name_or_id)
    except Department.DoesNotExist:
        raise CommandError(f"No department with the name or id {name_or_id!r}.") from None


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it as the last line of output. The token is shown only "
        "now: only its SHA-512 digest is stored. The token acts as its user and reaches the user's departments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--department",
            action="append",
            default=[],
            metavar="NAME_OR_ID",
            help="Add the user to this department (repeatable).",
        )
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            choices=list(GROUPS),
            help="Add the user to this staff group (repeatable); managing webhook endpoints needs "
            '"Department managers".',
        )
        parser.add_argument("--create-user", action="store_true", help="Create the user if it does not exist.")
        parser.add_argument("--superuser", action="store_true", help="Make the user a superuser (sees everything).")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=DEFAULT_EXPIRY_DAYS,
            metavar="N",
            help=f"Days until the token expires (default {DEFAULT_EXPIRY_DAYS}; 0 means it never expires).",
        )
        parser.add_argument("--name", default="", help="What the token is for, e.g. the integration's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["expires_in_days"]
        if days < 0:
            raise CommandError("--expires-in-days must be 0 (never) or a positive number of days.")
        User = get_user_model()
        departments = [find_department(value) for value in options["department"]]
        with transaction.atomic():
            try:
                user = User.objects.get(username=options["username"])
            except User.DoesNotExist:
                if not options["create_user"]:
                    raise CommandError(f"No user {options['username']!r}; pass --create-user to create it.") from None
                user = User.objects.create_user(username=options["username"])
                self.stdout.write(f"Created user {user.username} (no password: API access only).")
            if options["superuser"] and not user.is_superuser:
                user.is_superuser = True
                user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
                self.stdout.write(f"{user.username} is now a superuser.")
            for department in departments:
                department.members.add(user)
                self.stdout.write(f"{user.username} is a member of {department.name} ({department.pk}).")
            for name in options["group"]:
                user.groups.add(Group.objects.get(name=name))
                self.stdout.write(f"{user.username} is in the group {name}.")
            token, secret = api_token_create(
                user=user, name=options["name"], expires_in=timedelta(days=days) if days else None
            )
        expiry = token.expiry.isoformat() if token.expiry else "never"
        self.stdout.write(f"Token {token.token_key}… for {user.username}, expires {expiry}. It is shown only once:")
        self.stdout.write(secret)
