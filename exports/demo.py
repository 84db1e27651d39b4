"""The demo's data source: a small SQLite "customer database" made by `seed_demo`, registered as the
substrate `crm`, so that a new install can run a real export in its first minute.

Its people are the demo requests' requestors, so an export for `jane@example.org` finds her customer
record, orders, support tickets and marketing consents beside what DSAR Core itself holds. The DSN lives
in the environment variable DSAR_DEMO_CRM_URL, like any SQL substrate's (`scripts/run.sh` sets it).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.models import Org

from .services.substrates import Registered, substrate_register

DSN_ENV = "DSAR_DEMO_CRM_URL"
PEOPLE = [
    ("Jane Doe", "jane@example.org", "+44 20 7946 0018", "203.0.113.7"),
    ("Arjun Patel", "arjun@example.net", "+91 22 5555 0142", "198.51.100.23"),
    ("Chloé Martin", "chloe@example.fr", "+33 1 55 55 01 23", "192.0.2.44"),
    ("Lukas Schmidt", "lukas@example.de", "+49 30 5555 0199", "203.0.113.88"),
    ("Sam Taylor", "sam@example.com", "+1 415 555 0100", "2001:db8:85a3::8a2e:370:7334"),
]
PRODUCTS = ["Starter plan", "Pro plan", "Add-on storage", "Support pack", "Annual renewal"]

MAPPING = {
    "key": "crm",
    "kind": "sql",
    "dsnEnv": DSN_ENV,
    "description": "Demo customer database (SQLite): customers, orders, support tickets, consents",
    "tenantFilter": {"column": "account_id", "value": "demo"},
    "tables": [
        {
            "name": "customers",
            "subject": {"column": "email", "identity": "email"},
            "timeColumn": "created_at",
            "columns": ["id", "email", "name", "phone", "signup_ip", "password_hash", "created_at"],
            "types": {"id": "int64", "created_at": "timestamp"},
            "redact": [
                {"column": "phone", "action": "mask_last4"},
                {"column": "signup_ip", "action": "truncate_ip"},
            ],
        },
        {
            "name": "orders",
            "subject": {"via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}},
            "timeColumn": "ordered_at",
            "campaignColumn": "campaign_id",
            "columns": ["id", "customer_id", "ordered_at", "product", "total", "campaign_id"],
            "types": {"id": "int64", "customer_id": "int64", "ordered_at": "timestamp", "total": "decimal"},
        },
        {
            "name": "support_tickets",
            "subject": {"via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}},
            "timeColumn": "opened_at",
            "columns": ["id", "customer_id", "opened_at", "subject", "body", "agent_notes"],
            "types": {"id": "int64", "customer_id": "int64", "opened_at": "timestamp"},
            "redact": [
                {
                    "column": "agent_notes",
                    "action": "withhold",
                    "reason": "Internal fraud-review notes (UK GDPR Sch. 2 para 2: crime and taxation).",
                }
            ],
        },
        {
            "name": "consents",
            "subject": {"column": "email", "identity": "email"},
            "timeColumn": "given_at",
            "columns": ["email", "purpose", "given_at", "withdrawn_at"],
            "types": {"given_at": "timestamp", "withdrawn_at": "timestamp"},
        },
    ],
}


def demo_crm_create(path: Path) -> None:
    """(Re)create the demo database at `path`: a few customers with orders, tickets and consents, plus
    a second tenant's customer with the same e-mail, which the tenant filter keeps out of every export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    start = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, email TEXT NOT NULL,
              name TEXT, phone TEXT, signup_ip TEXT, password_hash TEXT, created_at TEXT NOT NULL);
            CREATE INDEX customers_email ON customers (email);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL,
              customer_id INTEGER NOT NULL REFERENCES customers (id), ordered_at TEXT NOT NULL,
              product TEXT, total NUMERIC, campaign_id TEXT);
            CREATE INDEX orders_customer ON orders (customer_id);
            CREATE TABLE support_tickets (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL,
              customer_id INTEGER NOT NULL REFERENCES customers (id), opened_at TEXT NOT NULL,
              subject TEXT, body TEXT, agent_notes TEXT);
            CREATE TABLE consents (account_id TEXT NOT NULL, email TEXT NOT NULL, purpose TEXT,
              given_at TEXT NOT NULL, withdrawn_at TEXT);
            """
        )
        for i, (name, email, phone, ip) in enumerate(PEOPLE, start=1):
            joined = start + timedelta(days=17 * i)
            db.execute(
                "INSERT INTO customers VALUES (?, 'demo', ?, ?, ?, ?, ?, ?)",
                (
                    i,
                    email,
                    name,
                    phone,
                    ip,
                    f"pbkdf2_sha256$600000${i:04d}demo$notarealhash",
                    joined.isoformat(),
                ),
            )
            for n in range(3 + i % 3):
                db.execute(
                    "INSERT INTO orders (account_id, customer_id, ordered_at, product, total, campaign_id) "
                    "VALUES ('demo', ?, ?, ?, ?, ?)",
                    (
                        i,
                        (joined + timedelta(days=30 * n + i)).isoformat(),
                        PRODUCTS[(i + n) % len(PRODUCTS)],
                        f"{19 + 10 * ((i + n) % 4)}.{(i * 7 + n) % 100:02d}",
                        "spring-sale" if n % 2 else None,
                    ),
                )
            db.execute(
                "INSERT INTO support_tickets (account_id, customer_id, opened_at, subject, body, "
                "agent_notes) VALUES ('demo', ?, ?, ?, ?, ?)",
                (
                    i,
                    (joined + timedelta(days=45)).isoformat(),
                    "Invoice question",
                    f"Hello, this is {name.split()[0]}: why was I charged twice in March?",
                    "Checked against the fraud list: no match.",
                ),
            )
            db.execute(
                "INSERT INTO consents VALUES ('demo', ?, 'newsletter', ?, ?)",
                (email, joined.isoformat(), (joined + timedelta(days=200)).isoformat() if i % 2 else None),
            )
        # Another tenant's customer with the same e-mail: never in a demo export.
        db.execute(
            "INSERT INTO customers VALUES (100, 'other-tenant', 'jane@example.org', "
            "'Jane D. (other tenant)', NULL, NULL, NULL, ?)",
            (start.isoformat(),),
        )


def demo_substrate_register(*, org: Org) -> Registered | None:
    """Create the database where DSAR_DEMO_CRM_URL (a `sqlite:///` URL) points and register `crm` over it;
    None when the variable is unset."""
    dsn = os.environ.get(DSN_ENV, "")
    if not dsn.startswith("sqlite:///"):
        return None
    demo_crm_create(Path(dsn.removeprefix("sqlite:///")))
    return substrate_register(org=org, data=MAPPING)
