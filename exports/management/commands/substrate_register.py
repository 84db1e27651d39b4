"""`manage.py substrate_register --org ORG_ID --file MAPPING.json`: register or update (same key) a
substrate after checking its mapping against the live source. Prints the key on its last line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.api import ApiError
from core.models import Org
from exports.services.substrates import substrate_register


class Command(BaseCommand):
    help = "Register (or update) a data source for export jobs from a mapping file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", required=True, help="the organisation's id")
        parser.add_argument(
            "--file", required=True, help="the mapping, as JSON (api-contract.md, Substrates)"
        )
        parser.add_argument("--disabled", action="store_true", help="register it disabled")
        parser.add_argument(
            "--no-check", action="store_true", help="do not connect to the source now (it is checked per job)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(pk=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        try:
            with open(options["file"], encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the mapping file: {error}") from None
        try:
            registered = substrate_register(
                org=org, data=data, enabled=not options["disabled"], check=not options["no_check"]
            )
        except ApiError as error:
            lines = [error.message, *(f"  {d['field']}: {d['message']}" for d in error.details)]
            raise CommandError("\n".join(lines)) from None
        verb = "Registered" if registered.created else "Updated"
        self.stdout.write(f"{verb} substrate {registered.substrate.key} ({registered.substrate.kind}).")
        self.stdout.write(registered.substrate.key)
