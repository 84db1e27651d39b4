"""What the background runner does, composed from each app's functions. Both runners call these.

- `dispatch_pass`: relay the outbox into deliveries and start the due ones (notifications), every couple
  of seconds and whenever an app says work is waiting;
- `mail_pass`: send the messages to data subjects that are due (correspondence), on a thread of its own
  in the embedded worker and as the `dsar.mail` task under Celery, so a slow mail server never holds up
  webhook deliveries;
- `sweeps`: once a minute, every app's housekeeping: deadline notices and clock refreshes (requests),
  orphaned deliveries (notifications), expired idempotency records and rate-limit windows (core),
  unrun, stalled and expired export jobs (exports), and expired, reminded and long-unverified
  verification challenges (verification).
"""

from __future__ import annotations

from datetime import datetime

DISPATCH_EVERY_SECONDS = 2.0
SWEEP_EVERY_SECONDS = 60.0


def dispatch_pass() -> int:
    """One pass of webhook dispatch; how many attempts it started."""
    from notifications.dispatcher import pump_now

    return pump_now()


MAIL_EVERY_SECONDS = 5.0


def mail_pass() -> int:
    """Send the due messages; how many were sent."""
    from correspondence.mailer import mail_pass as send_due

    return send_due()


def mail_waiting() -> bool:
    from correspondence.mailer import mail_waiting as waiting

    return waiting()


def sweeps(*, now: datetime) -> dict[str, int]:
    """The periodic housekeeping of every app; counts of what it did, by name."""
    from core import ratelimit
    from core.idempotency import idempotency_purge
    from exports.sweeps import sweep_exports
    from notifications.services import deliveries_bury_orphans
    from requests_app.sweeps import sweep_deadlines
    from verification.sweeps import sweep_verification

    result = sweep_deadlines(now=now)
    exports = sweep_exports(now=now)
    verification = sweep_verification(now=now)
    return {
        "atRisk": len(result.at_risk),
        "overdue": len(result.overdue),
        "acknowledgementAtRisk": len(result.acknowledgement_at_risk),
        "acknowledgementOverdue": len(result.acknowledgement_overdue),
        "refreshed": result.refreshed,
        "orphanedDeliveries": deliveries_bury_orphans(now=now),
        "idempotencyPurged": idempotency_purge(now=now),
        "rateWindowsPurged": ratelimit.purge_ended(now.timestamp()),
        "exportsNotRun": exports.not_run,
        "exportsTakenOver": exports.taken_over,
        "exportsStalled": exports.stalled,
        "exportsRequeued": exports.requeued,
        "exportsUnclaimed": exports.unclaimed,
        "exportsExpired": exports.expired,
        "exportBundlesDeleted": exports.deleted,
        **verification.counts(),
    }
