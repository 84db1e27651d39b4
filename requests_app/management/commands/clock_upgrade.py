from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

import clocks
from core.models import Org
from requests_app.models import OPEN, DataSubjectRequest
from requests_app.services import request_clock_upgrade


class Command(BaseCommand):
    help = (
        "Recompute open requests computed under an older policy-pack version with the current one, "
        "logging each change on the request's timeline. Without --apply, only lists what would change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation (org_...)")
        parser.add_argument("--jurisdiction", help="only this jurisdiction code")
        parser.add_argument("--apply", action="store_true", help="recompute (default: dry run)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = DataSubjectRequest.objects.filter(status__in=OPEN).select_related("org")
        if options["org"]:
            rows = rows.filter(org_id=options["org"])
        if options["jurisdiction"]:
            rows = rows.filter(jurisdiction=options["jurisdiction"])
        stale = [
            dsr
            for dsr in rows.only(
                "id", "org", "jurisdiction", "clock_pack_id", "clock_pack_version", "clock_due_date"
            ).iterator()
            if (dsr.clock_pack_id, dsr.clock_pack_version)
            != ((pack := clocks.get_pack(dsr.jurisdiction)).id, pack.version)
        ]
        for dsr in stale:
            pack = clocks.get_pack(dsr.jurisdiction)
            line = f"{dsr.id}: {dsr.clock_pack_id}@{dsr.clock_pack_version} -> {pack.id}@{pack.version}"
            if options["apply"]:
                org: Org = dsr.org
                result = request_clock_upgrade(org=org, request_id=dsr.id, actor="command:clock_upgrade")
                after = result.clock.due_date.isoformat() if result else "unchanged"
                line += f", due {dsr.clock_due_date.isoformat()} -> {after}"
            self.stdout.write(line)
        verb = "recomputed" if options["apply"] else "would be recomputed (use --apply)"
        self.stdout.write(f"{len(stale)} request(s) {verb}.")
