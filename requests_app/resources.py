"""The Request resource of the contract, built once and used by the API, the outbox and the admin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .clock import BLOCK_COLUMNS, clock_block
from .models import DataSubjectRequest, TimelineEntry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# The columns the Request resource is rendered from, in the order `request_resource_row` reads them: the
# queue selects exactly these (`values_list`), so a page of rows needs no model instances.
RESOURCE_COLUMNS = (
    "id",
    "org_id",
    "status",
    "jurisdiction",
    "request_types",
    "request_types_inferred",
    "channel",
    "raw_text",
    "intake_received_at",
    "contact",
    "source_evidence",
    "requestor",
    "received_at",
    "created_at",
    "updated_at",
    "verification_status",
    "verification_requested_at",
    "verification_received_at",
    "verification_method",
    "verification_challenge",
    "verification_may_refuse_from",
    "outcome",
    "appeal",
    "authority_current_id",
    "authority_current__evidence_artifacts",
    "authority_current__status",
    "authority_current__verified_at",
    *BLOCK_COLUMNS,
)
_BLOCK = RESOURCE_COLUMNS.index(BLOCK_COLUMNS[0])


def request_resource_row(row: Sequence[Any], *, now: datetime, at_risk_days: int) -> dict[str, Any]:
    """The contract's Request resource from one row of `RESOURCE_COLUMNS`: the one source of its shape."""
    (
        request_id,
        org_id,
        status,
        jurisdiction,
        request_types,
        request_types_inferred,
        channel,
        raw_text,
        intake_received_at,
        contact,
        source_evidence,
        requestor,
        received_at,
        created_at,
        updated_at,
        verification_status,
        verification_requested_at,
        verification_received_at,
        verification_method,
        verification_challenge,
        verification_may_refuse_from,
        outcome,
        appeal,
        authority_id,
        authority_artifacts,
        authority_status,
        authority_verified_at,
    ) = row[:_BLOCK]
    return {
        "id": request_id,
        "orgId": org_id,
        "status": status,
        "jurisdiction": jurisdiction,
        "requestTypes": request_types,
        "requestTypesInferred": request_types_inferred,
        "intakeSource": {
            "channel": channel,
            "rawText": raw_text,
            "receivedAt": _iso(intake_received_at),
            "contact": contact or None,
            "sourceEvidence": source_evidence,
        },
        "requestor": requestor,
        "authority": None
        if authority_id is None
        else {
            "evidenceArtifacts": authority_artifacts,
            "status": authority_status,
            "verifiedAt": _iso(authority_verified_at),
        },
        "receivedAt": _iso(received_at),
        "createdAt": _iso(created_at),
        "updatedAt": _iso(updated_at),
        "clock": clock_block(row[_BLOCK:], status=status, now=now, at_risk_days=at_risk_days),
        "verification": {
            "status": verification_status,
            "requestedAt": _iso(verification_requested_at),
            "receivedAt": _iso(verification_received_at),
            "method": verification_method or None,
            "challenge": _challenge(verification_challenge, now),
            # Flagged by the verification sweep; shown while the identity is still awaited.
            "mayRefuseUnverifiedFrom": verification_may_refuse_from.isoformat()
            if verification_may_refuse_from and verification_status == "REQUESTED"
            else None,
        },
        "outcome": outcome,
        "appeal": appeal,
    }


def _challenge(stored: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The stored summary of the latest challenge; a PENDING one past its expiry shows EXPIRED before the
    sweep gets to it."""
    if not stored:
        return None
    if stored.get("status") == "PENDING" and datetime.fromisoformat(stored["expiresAt"]) <= now:
        return {**stored, "status": "EXPIRED"}
    return stored


def resource_row(dsr: DataSubjectRequest) -> tuple[Any, ...]:
    """An instance as the row `RESOURCE_COLUMNS` would select (after a service changed it in memory)."""
    authority = dsr.authority_current
    values = []
    for column in RESOURCE_COLUMNS:
        owner, _, name = column.rpartition("__")
        if owner:  # authority_current__<field>
            values.append(getattr(authority, name) if authority else None)
        else:
            values.append(getattr(dsr, column))
    return tuple(values)


def request_resource(dsr: DataSubjectRequest, *, now: datetime) -> dict[str, Any]:
    return request_resource_row(resource_row(dsr), now=now, at_risk_days=dsr.org.at_risk_days)


def timeline_resource(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "recordedAt": _iso(entry.recorded_at),
        "actor": entry.actor,
        "action": entry.action,
        "fromStatus": entry.from_status or None,
        "toStatus": entry.to_status or None,
        "notes": entry.notes,
        "data": entry.data,
    }
