"""Intake: a new request, its first timeline entry, its clock and `request.created`, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

import clocks
from authority.models import AuthorityEvidence
from authority.rules import artifacts_for_storage, authority_input_check, decision_fields
from core.api import ValidationFailed
from core.ids import new_id
from core.models import Org
from notifications.services import event_emit

from ..clock import compute_clock, store_clock
from ..inference import infer_request_types
from ..models import DataSubjectRequest, Status, TimelineEntry
from ..resources import request_resource
from ..timeline_chain import seal
from .machinery import CLOCK_SKEW


@dataclass(frozen=True)
class CreateResult:
    request: DataSubjectRequest
    clock: clocks.ClockResult
    entry: TimelineEntry
    event_ids: list[str]
    now: datetime
    # The Request resource as of `now`, as the outbox event carries it: the answer reuses it.
    resource: dict[str, Any]


def request_create(
    *,
    org: Org,
    actor: str,
    jurisdiction: str,
    channel: str,
    raw_text: str,
    intake_received_at: datetime,
    contact: str = "",
    source_evidence: Sequence[dict[str, Any]] = (),
    requestor: dict[str, Any] | None = None,
    authority: dict[str, Any] | None = None,
    may_decide_authority: bool = False,
    received_at: datetime | None = None,
    request_types: Sequence[str] | None = None,
    now: datetime | None = None,
) -> CreateResult:
    """`may_decide_authority`: the caller holds the officer scope, so `authority.status` may be a decision."""
    now = now or timezone.now()
    try:
        pack = clocks.get_pack(jurisdiction)
        clocks.check_in_force(pack, intake_received_at, org.timezone_override or None)
    except (clocks.UnknownJurisdiction, clocks.LawNotInForce) as exc:
        raise ValidationFailed.field("jurisdiction", str(exc)) from None
    if intake_received_at > now + CLOCK_SKEW:
        raise ValidationFailed.field("intakeSource.receivedAt", "May not lie in the future.")
    received_at = received_at or now
    if received_at < intake_received_at:
        raise ValidationFailed.field(
            "receivedAt", "When this system recorded the request may not be before intakeSource.receivedAt."
        )
    if received_at > now + CLOCK_SKEW:
        raise ValidationFailed.field("receivedAt", "May not lie in the future.")
    if authority is not None:
        authority_input_check(
            status=authority["status"],
            verified_at=authority.get("verified_at"),
            may_decide=may_decide_authority,
            not_after=now + CLOCK_SKEW,
            field_prefix="authority.",
        )
    inferred = not request_types
    types = list(request_types) if request_types else infer_request_types(raw_text)
    types = sorted(set(types), key=clocks.REQUEST_TYPES.index)

    with transaction.atomic():
        dsr = DataSubjectRequest(
            org=org,
            jurisdiction=jurisdiction,
            request_types=types,
            request_types_inferred=inferred,
            channel=channel,
            raw_text=raw_text,
            intake_received_at=intake_received_at,
            contact=contact,
            source_evidence=list(source_evidence),
            requestor=requestor,
            requestor_name=(requestor or {}).get("name") or "",
            requestor_email=(requestor or {}).get("email") or "",
            received_at=received_at,
            created_at=now,
            updated_at=now,
        )
        entry = TimelineEntry(
            id=new_id("tle"),
            request=dsr,
            org_id=org.id,
            seq=1,
            at=intake_received_at,
            recorded_at=now,
            actor=actor,
            action="create",
            from_status="",
            to_status=Status.RECEIVED,
            notes="",
            data={"channel": channel, "requestTypes": types, "requestTypesInferred": inferred},
        )
        result = compute_clock(dsr, [entry], now=now)
        store_clock(dsr, result)
        dsr.save(force_insert=True)
        seal(entry, None)
        entry.save(force_insert=True)
        if authority is not None:
            evidence = AuthorityEvidence.objects.create(
                org=org,
                request=dsr,
                evidence_artifacts=artifacts_for_storage(authority["evidence_artifacts"]),
                status=authority["status"],
                verified_at=authority.get("verified_at"),
                submitted_at=intake_received_at,
                **decision_fields(authority["status"], actor=actor, at=intake_received_at),
            )
            dsr.authority_current = evidence
            dsr.save(update_fields=["authority_current"])
        resource = request_resource(dsr, now=now)
        event = event_emit(
            org_id=org.id,
            request_id=dsr.id,
            type="request.created",
            at=now,
            data={"requestId": dsr.id, "request": resource},
        )
    return CreateResult(
        request=dsr, clock=result, entry=entry, event_ids=[event.id], now=now, resource=resource
    )
