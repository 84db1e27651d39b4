from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.services import api_key_find, api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key at once (401 from its next call). Name it by prefix, id or the raw key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="the key's prefix (as the admin shows it), its id, or the raw key")

    def handle(self, *args: Any, **options: Any) -> None:
        key = api_key_find(options["key"])
        if key is None:
            raise CommandError(f"No API key {options['key'][:24]!r}.")
        label = f"dsar_{key.prefix}_… of {key.org.name} ({', '.join(key.scopes)})"
        if api_key_revoke(key=key, by="manage.py revoke_api_key"):
            self.stdout.write(f"Revoked {label}.")
        else:
            self.stdout.write(f"{label} was already revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S %Z}.")
