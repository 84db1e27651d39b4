"""The Request resource of the contract, built once and used by the API, the outbox and the admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .clock import clock_block
from .models import DataSubjectRequest, TimelineEntry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def request_resource(dsr: DataSubjectRequest, *, now: datetime) -> dict[str, Any]:
    authority = dsr.authority_current
    return {
        "id": dsr.id,
        "orgId": dsr.org_id,
        "status": dsr.status,
        "jurisdiction": dsr.jurisdiction,
        "requestTypes": list(dsr.request_types),
        "requestTypesInferred": dsr.request_types_inferred,
        "intakeSource": {
            "channel": dsr.channel,
            "rawText": dsr.raw_text,
            "receivedAt": _iso(dsr.intake_received_at),
            "contact": dsr.contact or None,
            "sourceEvidence": dsr.source_evidence,
        },
        "requestor": dsr.requestor,
        "authority": authority.as_resource() if authority else None,
        "receivedAt": _iso(dsr.received_at),
        "createdAt": _iso(dsr.created_at),
        "updatedAt": _iso(dsr.updated_at),
        "clock": clock_block(dsr, now=now, at_risk_days=dsr.org.at_risk_days),
        "verification": {
            "status": dsr.verification_status,
            "requestedAt": _iso(dsr.verification_requested_at),
            "receivedAt": _iso(dsr.verification_received_at),
        },
        "outcome": dsr.outcome,
        "appeal": dsr.appeal,
    }


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
