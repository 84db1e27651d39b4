from django.core.management.base import BaseCommand, CommandError

from core.services import org_create


class Command(BaseCommand):
    help = "Create an organisation (tenant); prints its id on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--at-risk-days", type=int, default=7)
        parser.add_argument("--timezone", default="", help="IANA zone overriding the policy packs' zones")

    def handle(self, *args, **options):
        try:
            org = org_create(
                name=options["name"],
                at_risk_days=options["at_risk_days"],
                timezone_override=options["timezone"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created organisation {org.name!r}")
        self.stdout.write(org.id)
