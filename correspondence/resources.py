"""The Message and MessageTemplate resources as the API, the events and the export substrate show them."""

from __future__ import annotations

from typing import Any

from .models import Message, MessageTemplate
from .notices import shown


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_resource(message: Message) -> dict[str, Any]:
    """Never the address (only `toMasked`) nor a secret (its place is masked)."""
    return {
        "id": message.id,
        "requestId": message.request_id,
        "kind": message.kind,
        "locale": message.locale,
        "toMasked": message.to_masked,
        "subject": message.subject,
        "bodyText": shown(message.body_text),
        "bodySha256": message.body_sha256,
        "status": message.status,
        "statusReason": message.status_reason or None,
        "attempts": message.attempts,
        "createdAt": _iso(message.created_at),
        "sentAt": _iso(message.sent_at),
        "templateId": message.template_id or None,
        "templateVersion": message.template_version,
        "legalChecks": [{"rule": c["rule"], "ok": c["ok"]} for c in message.legal_checks],
        "resendOf": message.resend_of_id,
        "actor": message.actor,
    }


def template_resource(row: MessageTemplate) -> dict[str, Any]:
    from .lookup import from_row

    return {**from_row(row).resource(), "createdAt": _iso(row.created_at), "createdBy": row.created_by}
