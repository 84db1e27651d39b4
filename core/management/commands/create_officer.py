"""`manage.py create_officer --org ORG_ID --username NAME [--auditor]`: a staff login for one org's admin."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import Org
from core.staff import AUDITOR, OFFICER, staff_user_create

PASSWORD_ENV = "DSAR_OFFICER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a staff user who sees only one organisation in the admin, in the 'Privacy officer' group "
        f"(or 'Auditor' with --auditor). The password comes from ${PASSWORD_ENV}, else a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation id (org_...)")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--auditor", action="store_true", help="read-only: may view, never act")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(pk=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        password = os.environ.get(PASSWORD_ENV) or self._prompt()
        try:
            user = staff_user_create(
                org=org,
                username=options["username"],
                password=password,
                auditor=options["auditor"],
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        role = AUDITOR if options["auditor"] else OFFICER
        self.stdout.write(
            f"Created {role.lower()} {user.username!r} for {org.name} ({org.id}); log in at /admin/"
        )

    def _prompt(self) -> str:
        # No echo and no shell history: the reason for getpass rather than a --password flag.
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError(f"No password: set {PASSWORD_ENV} or run interactively.") from None
        if not first:
            raise CommandError("The password may not be empty.")
        if first != second:
            raise CommandError("The passwords do not match.")
        return first
