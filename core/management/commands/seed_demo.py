"""Seed a demo organisation with API keys (printed) and a few dozen requests across jurisdictions."""

from __future__ import annotations

import os
import random
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

import clocks
from core.api import ApiError
from core.models import Org
from core.services import api_key_create, org_create
from core.staff import staff_password_set, staff_user_create

DEMO_ORG = "Demo Org"
DEMO_OFFICER = "officer"
PEOPLE = [
    ("Jane Doe", "jane@example.org"),
    ("Arjun Patel", "arjun@example.net"),
    ("Chloé Martin", "chloe@example.fr"),
    ("Lukas Schmidt", "lukas@example.de"),
    ("María García", "maria@example.es"),
    ("João Silva", "joao@example.com.br"),
    ("Aoife Byrne", "aoife@example.ie"),
    ("Sam Taylor", "sam@example.com"),
    ("Olivia Brown", "olivia@example.ca"),
    ("Noah Wilson", "noah@example.com.au"),
    ("Emma Rossi", "emma@example.it"),
    ("Liam Murphy", "liam@example.co.uk"),
]
TEXTS = [
    ("Please send me a copy of all personal data you hold about me.", None),
    ("I want you to delete my account and erase all my data.", None),
    ("Do not sell or share my personal information.", None),
    ("Bitte geben Sie mir Auskunft über meine gespeicherten Daten.", None),
    ("Je souhaite supprimer toutes mes données personnelles.", None),
    ("Please correct my address, it is inaccurate.", None),
    ("Quero acesso aos meus dados pessoais.", None),
    ("Send me my data in a machine-readable format and delete it afterwards.", ["PORTABILITY", "ERASURE"]),
]
JURISDICTIONS = [
    "GB",
    "GB",
    "GB-SCT",
    "GB-NIR",
    "DE",
    "FR",
    "IE",
    "ES",
    "NL",
    "IT",
    "US-CA",
    "US-CA",
    "US-VA",
    "US-CO",
    "US-TX",
    "BR",
    "CA",
    "CA-QC",
    "CH",
    "AU",
    "EU",
]


class Command(BaseCommand):
    help = "Create the demo org, print its API keys, and seed requests (once)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=36)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(name=DEMO_ORG).first() or org_create(name=DEMO_ORG)
        if not org.requests.exists():
            self._seed(org, options["requests"], random.Random(options["seed"]))
        _, officer = api_key_create(org=org, scopes=["officer", "integration", "export"], name="demo officer")
        _, intake = api_key_create(org=org, scopes=["intake"], name="demo intake")
        self.stdout.write(f"Demo organisation: {org.name} ({org.id}), {org.requests.count()} requests")
        self.stdout.write(f"  officer key (officer, integration, export): {officer}")
        self.stdout.write(f"  intake key (intake):                        {intake}")
        self._demo_data_source(org)
        password = self._demo_officer(org)
        self.stdout.write(f"  admin login at /admin/ (privacy officer):   {DEMO_OFFICER} / {password}")

    def _demo_data_source(self, org: Org) -> None:
        """The demo customer database as the substrate `crm`, when DSAR_DEMO_CRM_URL says where."""
        from exports.demo import DSN_ENV, demo_substrate_register

        registered = demo_substrate_register(org=org)
        if registered is None:
            self.stdout.write(f"  (no demo data source: {DSN_ENV} is not set; scripts/run.sh sets it)")
        else:
            self.stdout.write(f"  demo data source for exports: substrate {registered.substrate.key!r}")

    def _demo_officer(self, org: Org) -> str:
        """The demo's admin login: a fresh password on every run, printed once, like the keys above."""
        from django.contrib.auth import get_user_model

        password = os.environ.get("DSAR_OFFICER_PASSWORD") or secrets.token_urlsafe(12)
        try:
            if get_user_model().objects.filter(username=DEMO_OFFICER).exists():
                staff_password_set(username=DEMO_OFFICER, password=password)
            else:
                staff_user_create(org=org, username=DEMO_OFFICER, password=password)
        except ValidationError as exc:
            raise CommandError("DSAR_OFFICER_PASSWORD rejected: " + " ".join(exc.messages)) from exc
        return password

    def _seed(self, org: Org, count: int, rnd: random.Random) -> None:
        from requests_app import services

        actor = "seed:demo"
        now = timezone.now()
        for i in range(count):
            name, email = PEOPLE[i % len(PEOPLE)]
            text, types = TEXTS[i % len(TEXTS)]
            received = now - timedelta(days=rnd.randint(0, 50), hours=rnd.randint(1, 20))
            created = services.request_create(
                org=org,
                actor=actor,
                jurisdiction=JURISDICTIONS[i % len(JURISDICTIONS)],
                channel=rnd.choice(["EMAIL", "WEB_FORM", "PHONE", "MAIL", "API"]),
                raw_text=text,
                intake_received_at=received,
                contact=email,
                requestor={"type": "DATA_SUBJECT", "name": name, "email": email, "relation": "SELF"},
                received_at=received + timedelta(minutes=rnd.randint(1, 90)),
                request_types=types,
            )
            rid = created.request.id
            step = received + timedelta(days=1)
            plan = i % 6
            try:
                if plan >= 1 and step < now:
                    services.request_acknowledge(org=org, request_id=rid, actor=actor, occurred_at=step)
                if plan == 2 and step + timedelta(days=2) < now:
                    services.request_clarification_request(
                        org=org,
                        request_id=rid,
                        actor=actor,
                        message="Which accounts does your request cover?",
                        occurred_at=step + timedelta(days=2),
                    )
                extendable = clocks.get_pack(created.request.jurisdiction).extendable
                if plan == 3 and extendable and step + timedelta(days=3) < now:
                    services.request_extend(
                        org=org,
                        request_id=rid,
                        actor=actor,
                        reason="Complex request spanning several systems.",
                        occurred_at=step + timedelta(days=3),
                    )
                if plan == 4 and step + timedelta(days=5) < now:
                    services.request_close(
                        org=org,
                        request_id=rid,
                        actor=actor,
                        outcome="FULFILLED",
                        occurred_at=step + timedelta(days=5),
                    )
                appealable = clocks.get_pack(created.request.jurisdiction).appeal_period is not None
                if plan == 5 and step + timedelta(days=4) < now and (i % 12 == 5 or appealable):
                    services.request_refuse(
                        org=org,
                        request_id=rid,
                        actor=actor,
                        reason="MANIFESTLY_UNFOUNDED",
                        rationale="Repeated identical request within 30 days.",
                        occurred_at=step + timedelta(days=4),
                    )
                    # Where the law grants one, the requestor appeals: the appeal's own clock runs.
                    if appealable and step + timedelta(days=6) < now:
                        services.request_appeal(
                            org=org,
                            request_id=rid,
                            actor=actor,
                            received_at=step + timedelta(days=6),
                            channel="EMAIL",
                            raw_text="I do not accept your refusal and appeal it.",
                        )
            except ApiError as exc:
                self.stderr.write(f"  skipped a step for {rid}: {exc.message}")
