from django.core.management.base import BaseCommand, CommandError

from core.models import Org
from core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an org; prints the raw key (shown once) on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation id (org_...)")
        parser.add_argument(
            "--scopes", required=True, help="comma-separated: intake,officer,integration,export"
        )
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="the key stops working after N days"
        )

    def handle(self, *args, **options):
        org = Org.objects.filter(pk=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            key, raw = api_key_create(
                org=org, scopes=scopes, name=options["name"], expires_in_days=options["expires_in_days"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        expiry = f", expires {key.expires_at:%Y-%m-%d %H:%M %Z}" if key.expires_at else ""
        scope_text = ", ".join(key.scopes)
        self.stdout.write(
            f"Key dsar_{key.prefix}_… for {org.name} with scopes {scope_text}{expiry} (shown once):"
        )
        self.stdout.write(raw)
