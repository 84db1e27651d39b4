"""Queueing a message to the data subject, inside the transaction of the action that causes it.

Lifecycle actions (`requests_app.services`), verification challenges and export deliveries call
`message_queue` while their row is locked: the message is rendered, legally checked and written `QUEUED`
with their timeline entry and event, or not at all. The mailer sends it after the commit; a mail failure
never undoes the action (`correspondence.mailer`).

This module imports only models and pure helpers of `requests_app` (never its services), so that the
request services can import it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

import clocks
from core import wakeup
from core.api import ValidationFailed
from core.models import Org
from core.subject_secrets import SECRET_MARK, SECRET_SHOWN, mask_email
from requests_app.models import DataSubjectRequest

from .context import ActionValues, message_context, pack_of
from .engine import check_template, elements_shown, render
from .locales import BadLocale, locale_normalise
from .lookup import Resolved, resolve, template_by_id
from .models import Message, MessageStatus

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Notify:
    """A lifecycle body's `notify` and `message` (`{locale?, templateId?, extraText?}`)."""

    enabled: bool | None = None  # None: the org's setting
    locale: str | None = None
    template_id: str | None = None
    extra_text: str = ""

    def wanted(self, org: Org) -> bool:
        return org.notify_subject if self.enabled is None else self.enabled


def notify_from_body(data: dict[str, Any], *, words_are_extra: bool) -> Notify:
    """From a validated lifecycle body (`NotifyMixin`). `words_are_extra`: the `message` words are only
    added to the letter (acknowledgement, extension); otherwise they are the action's own input (a
    clarification's question, a refusal's message) and the action passes them on itself. The locale is
    checked here: 400 on `message.locale`."""
    message = data.get("message") or {}
    locale = message.get("locale")
    if locale:
        try:
            locale = locale_normalise(locale)
        except BadLocale as error:
            raise ValidationFailed.field("message.locale", str(error)) from None
    return Notify(
        enabled=data.get("notify"),
        locale=locale or None,
        template_id=message.get("templateId") or None,
        extra_text=(message.get("text") or "") if words_are_extra else "",
    )


def words_of(data: dict[str, Any]) -> str:
    """The officer's words to the subject in a lifecycle body's `message` (string or options)."""
    return ((data.get("message") or {}).get("text") or "").strip()


def subject_address(dsr: DataSubjectRequest) -> str:
    """Where messages about the request go: the requestor's e-mail, else the contact if it is one."""
    for candidate in (dsr.requestor_email, dsr.contact):
        if candidate and _EMAIL.match(candidate.strip()):
            return candidate.strip()
    return ""


def legal_checks(
    pack: clocks.PolicyPack, kind: str, used: set[str], context: dict[str, str]
) -> list[dict[str, Any]]:
    """One check per element the pack requires in this kind of message: the template shows it and the
    action gave it a value."""
    from .engine import ELEMENT_VARIABLES

    notice = pack.notices.get(kind)
    shown = elements_shown(used)
    checks = []
    for element in pack.required_elements(kind):
        names = ELEMENT_VARIABLES[element]
        ok = element in shown and any(context.get(name) for name in names if name in used)
        checks.append(
            {
                "rule": f"{pack.id}.{kind}.{element}",
                "element": element,
                "ok": ok,
                "citation": notice.citation if notice else "",
            }
        )
    return checks


def _template(org: Org, notify: Notify, *, pack: clocks.PolicyPack, kind: str) -> Resolved:
    required = pack.required_elements(kind)
    if notify.template_id:
        found = template_by_id(org, notify.template_id)
        if found is None:
            raise ValidationFailed.field("message.templateId", "No such template in this organisation.")
        if found.kind != kind:
            raise ValidationFailed.field(
                "message.templateId", f"That template is for {found.kind} messages; this action sends {kind}."
            )
        return found
    return resolve(org=org, pack=pack.id, kind=kind, locale=notify.locale, required=required)


def message_queue(
    *,
    dsr: DataSubjectRequest,
    kind: str,
    notify: Notify | None,
    values: ActionValues,
    actor: str,
    now: datetime,
    always: bool = False,
    to_address: str | None = None,
    secret_seed: str = "",
    secret_kind: str = "",
    ref: str = "",
    resend_of: Message | None = None,
) -> Message | None:
    """Render and queue one message in the caller's transaction; None when the subject is not to be told.

    `always`: the message is the action itself (a code, a link, a custom message), not a notice of it.
    A required legal element left empty (a GDPR refusal without reasons) is refused before anything is
    written: 400 on the action's field for it, naming the rule.
    """
    notify = notify or Notify()
    if not always and not notify.wanted(dsr.org):
        return None
    pack = pack_of(dsr)
    template = _template(dsr.org, notify, pack=pack, kind=kind)
    if not values.extra_text and notify.extra_text:
        values.extra_text = notify.extra_text
    context = message_context(dsr, kind=kind, locale=template.locale, values=values, now=now)
    used = check_template(
        subject=template.subject, body_text=template.body_text, body_html=template.body_html
    )
    checks = legal_checks(pack, kind, used, context)
    missing = [check for check in checks if not check["ok"]]
    if missing:
        # The officer's own input is what is missing (reasons), or the template chosen lacks the element.
        def field(element: str) -> str:
            return values.reason_field if element == "reasons" else "message.templateId"

        first = missing[0]
        raise ValidationFailed(
            f"The {kind.lower()} message must give {first['element']} "
            f"({first['citation'] or first['rule']}).",
            details=[{"field": field(c["element"]), "message": f"required: {c['rule']}"} for c in missing],
        )
    parts = render(
        subject=template.subject, body_text=template.body_text, body_html=template.body_html, context=context
    )
    address = subject_address(dsr) if to_address is None else to_address
    message = Message(
        org_id=dsr.org_id,
        request=dsr,
        kind=kind,
        locale=template.locale,
        to_address=address,
        to_masked=mask_email(address) if address else "",
        subject=parts.subject,
        body_text=parts.body_text,
        body_html=parts.body_html,
        body_sha256=hashlib.sha256(parts.body_text.encode()).hexdigest(),
        template_id=template.id,
        template_version=template.version,
        legal_checks=checks,
        actor=actor,
        ref=ref,
        resend_of=resend_of,
        secret_seed=secret_seed,
        secret_kind=secret_kind,
        created_at=now,
        updated_at=now,
    )
    if address:
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = now
        transaction.on_commit(wakeup.work_waiting)
    else:
        message.status = MessageStatus.SUPPRESSED
        message.status_reason = "The request has no e-mail address to write to."
        message.secret_seed = ""
    message.save(force_insert=True)
    return message


def message_summary(message: Message | None) -> dict[str, Any]:
    """What a timeline entry records of the letter its action queued, under `letter` (an action's own
    `message` is the officer's words, kept as they were)."""
    if message is None:
        return {}
    return {
        "letter": {
            "id": message.id,
            "kind": message.kind,
            "locale": message.locale,
            "status": message.status,
            "toMasked": message.to_masked,
        }
    }


def shown(text: str) -> str:
    """A stored body as people may see it: the secret's place is masked."""
    return text.replace(SECRET_MARK, SECRET_SHOWN)
