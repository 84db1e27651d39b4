"""Notifications' services, by concern:

- `outbox`: events committed with their change (`event_emit`), and the relay into deliveries;
- `delivery`: fair claims, one signed attempt, its record, retries and the circuit breaker;
- `endpoints`: registration, changes, rotation, deletion;
- `replay`: sending an event again.

The background runner (`dsar_project/background/`) drives `outbox_drain` and a `notifications.dispatcher`;
nothing here imports it, nor any other app: notifications is a leaf.
"""

from .delivery import (
    LOST_ATTEMPT_ERROR,
    AttemptOutcome,
    Sent,
    attempt_send,
    attempts_record,
    deliveries_attempt,
    deliveries_bury,
    deliveries_bury_orphans,
    deliveries_claim,
    deliveries_claim_ids,
    delivery_attempt,
    retry_delay,
)
from .endpoints import endpoint_create, endpoint_delete, endpoint_rotate_secret, endpoint_update
from .outbox import ALL_EVENTS, EVENT_TYPES, RelayResult, event_emit, outbox_drain, outbox_relay
from .replay import ReplayQuotaExceeded, ReplayResult, event_replay

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "LOST_ATTEMPT_ERROR",
    "AttemptOutcome",
    "RelayResult",
    "ReplayQuotaExceeded",
    "ReplayResult",
    "Sent",
    "attempt_send",
    "attempts_record",
    "deliveries_attempt",
    "deliveries_bury",
    "deliveries_bury_orphans",
    "deliveries_claim",
    "deliveries_claim_ids",
    "delivery_attempt",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_rotate_secret",
    "endpoint_update",
    "event_emit",
    "event_replay",
    "outbox_drain",
    "outbox_relay",
    "retry_delay",
]
