"""Authority to act: asked of the agent, submitted, then approved or rejected by an officer.

Under UK GDPR the clock waits for the proof once it has been asked for (legal-clocks.md §3); `clocks`
decides that from the events these services record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

import clocks
from core.models import Org
from requests_app.models import DataSubjectRequest, TimelineEntry
from requests_app.services import CLOCK_SKEW, ActionResult, Change, request_action

from .models import AuthorityEvidence, AuthorityStatus
from .rules import artifacts_for_storage, authority_input_check, decision_fields


def authority_request(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.authority_requested_at = at
        return Change(
            event_type="authority.requested",
            fields=["authority_requested_at"],
            clock_event=clocks.EventKind.AUTHORITY_REQUESTED,
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="authority.request",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def authority_submit(
    *,
    org: Org,
    request_id: str,
    actor: str,
    evidence_artifacts: list[dict[str, Any]],
    status: str,
    may_decide: bool = False,
    verified_at: datetime | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Record evidence of authority. `may_decide`: the caller holds the officer scope, so `status` may be a
    decision (`VERIFIED`, `REJECTED`); anyone else submits `PENDING` evidence (authority.rules)."""
    authority_input_check(
        status=status,
        verified_at=verified_at,
        may_decide=may_decide,
        not_after=(now or timezone.now()) + CLOCK_SKEW,
    )

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        evidence = AuthorityEvidence.objects.create(
            org_id=dsr.org_id,
            request=dsr,
            evidence_artifacts=artifacts_for_storage(evidence_artifacts),
            status=status,
            verified_at=verified_at,
            submitted_at=at,
            **decision_fields(status, actor=actor, at=at),
        )
        dsr.authority_current = evidence
        return Change(
            event_type="authority.submitted",
            fields=["authority_current"],
            clock_event=clocks.EventKind.AUTHORITY_SUBMITTED,
            data={"evidenceId": evidence.pk, "status": status, "artifacts": len(evidence_artifacts)},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="authority.submit",
        step=step,
        occurred_at=occurred_at,
        now=now,
    )


def _decide(
    *,
    org: Org,
    request_id: str,
    actor: str,
    action: str,
    decision: str,
    event_type: str,
    reason: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        evidence = dsr.authority_current
        assert evidence is not None  # the rule (guards.RULES) ran first
        evidence.status = decision
        evidence.decided_at = at
        evidence.decided_by = actor
        evidence.decision_reason = reason
        if decision == AuthorityStatus.VERIFIED:
            evidence.verified_at = at
        evidence.save(update_fields=["status", "decided_at", "decided_by", "decision_reason", "verified_at"])
        return Change(event_type=event_type, data={"evidenceId": evidence.pk, "reason": reason})

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action=action,
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def authority_approve(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    return _decide(
        org=org,
        request_id=request_id,
        actor=actor,
        action="authority.approve",
        decision=AuthorityStatus.VERIFIED,
        event_type="authority.approved",
        notes=notes,
        occurred_at=occurred_at,
        now=now,
    )


def authority_reject(
    *,
    org: Org,
    request_id: str,
    actor: str,
    reason: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    return _decide(
        org=org,
        request_id=request_id,
        actor=actor,
        action="authority.reject",
        decision=AuthorityStatus.REJECTED,
        event_type="authority.rejected",
        reason=reason,
        notes=notes,
        occurred_at=occurred_at,
        now=now,
    )
