"""Correspondence writes: organisation templates, custom messages, resends; and the template preview.

Every write to a request goes through the request machinery (`requests_app.services`): a custom message
is an action on the request (`message.send`) whose notice is the message, so its timeline entry, its event
and the message commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

import clocks
from core.api import Conflict, NotFound, ValidationFailed
from core.models import Org
from requests_app.models import DataSubjectRequest
from requests_app.selectors import request_get
from requests_app.services import ActionResult, Change, request_action, request_record

from .context import ActionValues, message_context
from .engine import TemplateRefused, check_template, elements_shown, render
from .locales import BadLocale, locale_normalise
from .lookup import Resolved, from_row, pack_ids, template_by_id
from .models import Message, MessageStatus, MessageTemplate
from .notices import Notify, legal_checks, message_queue, message_summary

# Messages that carry a one-time secret: a copy cannot be re-sent (the secret is gone once sent); the
# challenge or the delivery sends a fresh one.
SECRET_KINDS = ("VERIFICATION_CODE", "VERIFICATION_LINK", "DELIVERY_READY")


def pack_by_id(pack_id: str) -> clocks.PolicyPack:
    for pack in clocks.list_packs():
        if pack.id == pack_id:
            return pack
    raise LookupError(pack_id)


def elements_every_pack_requires(kind: str) -> tuple[str, ...]:
    """What a template for every pack must carry: the elements all packs require of this kind."""
    packs = {p.id: p for p in clocks.list_packs()}.values()
    common: set[str] | None = None
    for pack in packs:
        required = set(pack.required_elements(kind))
        common = required if common is None else common & required
    return tuple(sorted(common or ()))


def _locale(value: str, field: str = "locale") -> str:
    try:
        return locale_normalise(value)
    except BadLocale as error:
        raise ValidationFailed.field(field, str(error)) from None


def _checked(subject: str, body_text: str, body_html: str) -> set[str]:
    try:
        return check_template(subject=subject, body_text=body_text, body_html=body_html)
    except TemplateRefused as refused:
        raise ValidationFailed.field(refused.field, refused.message) from None


def template_create(
    *,
    org: Org,
    actor: str,
    kind: str,
    pack: str,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    now: datetime | None = None,
) -> MessageTemplate:
    """A new template, or the next version of the org's template for the same kind, pack and locale.
    Refused (400) for a tag or variable outside the sandbox, a bad locale, an unknown pack, or a legal
    element the pack requires in this kind of message that the template does not show."""
    now = now or timezone.now()
    locale = _locale(locale)
    pack = pack or ""
    if pack and pack not in pack_ids():
        raise ValidationFailed.field("pack", f"Unknown pack '{pack}'; GET /v1/policy-packs lists them.")
    used = _checked(subject, body_text, body_html)
    if pack:
        policy = pack_by_id(pack)
        required = policy.required_elements(kind)
        notice = policy.notices.get(kind)
        citation = notice.citation if notice else ""
    else:
        required = elements_every_pack_requires(kind)
        citation = "required by every pack"
    missing = [element for element in required if element not in elements_shown(used)]
    if missing:
        raise ValidationFailed(
            f"The template does not give what the law requires in a {kind.lower()} message: "
            f"{', '.join(missing)} ({citation}).",
            details=[
                {"field": "bodyText", "message": f"missing {element}: use {{{{ {_variable_for(element)} }}}}"}
                for element in missing
            ],
        )
    try:
        with transaction.atomic():
            current = (
                MessageTemplate.objects.select_for_update()
                .filter(org=org, kind=kind, pack=pack, locale=locale, retired_at__isnull=True)
                .first()
            )
            version = 1
            if current is not None:
                current.retired_at = now
                current.save(update_fields=["retired_at"])
                version = current.version + 1
            return MessageTemplate.objects.create(
                org=org,
                kind=kind,
                pack=pack,
                locale=locale,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                version=version,
                created_at=now,
                created_by=actor,
            )
    except IntegrityError:
        raise Conflict(
            "Another edit of this template was saved at the same time; reload and retry."
        ) from None


def _variable_for(element: str) -> str:
    from .engine import ELEMENT_VARIABLES

    return ELEMENT_VARIABLES[element][0]


def templates_list(
    *, org: Org, kind: str | None = None, pack: str | None = None, locale: str | None = None
) -> list[dict[str, Any]]:
    """The org's current templates, then the built-in ones (for `pack`, or those every pack shares)."""
    from .builtin import BUILTINS
    from .lookup import builtin

    if locale:
        locale = _locale(locale)
    if pack and pack not in pack_ids():
        raise ValidationFailed.field("pack", f"Unknown pack '{pack}'.")
    rows = MessageTemplate.objects.filter(org=org, retired_at__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    if pack:
        rows = rows.filter(pack__in=[pack, ""])
    if locale:
        rows = rows.filter(locale=locale)
    found = [from_row(row).resource() for row in rows.order_by("kind", "pack", "locale")]
    for (builtin_kind, builtin_locale), _text in sorted(BUILTINS.items()):
        if (kind and builtin_kind != kind) or (locale and builtin_locale != locale):
            continue
        resolved = builtin(pack or "", builtin_kind, builtin_locale)
        if resolved is not None:
            found.append(resolved.resource())
    return found


@dataclass(frozen=True)
class Preview:
    subject: str
    body_text: str
    body_html: str
    legal_checks: list[dict[str, Any]]


_SAMPLE_VALUES = ActionValues(
    reasons="[the reasons you give]",
    clarification="[what you ask the subject to clarify]",
    outcome="FULFILLED",
    extra_text="",
    subject_line="[the subject you write]",
    code="123456",
    link="https://example.org/s/…",
    bundle_size=1_234_567,
    bundle_sha256="0" * 64,
)


def _sample_request(org: Org, pack: clocks.PolicyPack, now: datetime) -> DataSubjectRequest:
    """An unsaved request under `pack`, received today, to preview a template without a real one."""
    received = now - timedelta(days=1)
    result = clocks.compute(pack, received_at=received, request_types=["ACCESS"], events=[], now=now)
    return DataSubjectRequest(
        id="req_PREVIEW",
        org=org,
        jurisdiction=pack.jurisdiction,
        request_types=["ACCESS"],
        intake_received_at=received,
        requestor_name="Jane Example",
        requestor_email="jane@example.org",
        clock_pack_id=pack.id,
        clock_pack_version=pack.version,
        clock_timezone=pack.timezone,
        clock_due_date=result.due_date,
    )


def template_preview(
    *, org: Org, template_id: str, request_id: str | None, now: datetime | None = None
) -> Preview:
    now = now or timezone.now()
    template = template_by_id(org, template_id)
    if template is None:
        raise NotFound("No such template in this organisation.")
    if request_id:
        dsr = request_get(org=org, request_id=request_id)
        values = replace(_SAMPLE_VALUES, extra={})
        if dsr.outcome and dsr.outcome.get("reason"):
            values.reasons = dsr.outcome["reason"]
    else:
        pack = pack_by_id(template.pack) if template.pack else clocks.get_pack("GB")
        dsr = _sample_request(org, pack, now)
        values = replace(_SAMPLE_VALUES, extra={})
    return _preview(dsr, template, values, now=now)


def template_draft_preview(
    *,
    org: Org,
    kind: str,
    pack: str,
    locale: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> Preview:
    """A template not saved yet, rendered as `template_preview` renders a saved one (the admin's editor).
    400 for what `template_create` would refuse in the sandbox, a bad locale or an unknown pack."""
    now = now or timezone.now()
    locale = _locale(locale)
    pack = pack or ""
    if pack and pack not in pack_ids():
        raise ValidationFailed.field("pack", f"Unknown pack '{pack}'.")
    _checked(subject, body_text, body_html)
    draft = Resolved(
        id="draft",
        version=0,
        kind=kind,
        pack=pack,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        built_in=False,
    )
    values = replace(_SAMPLE_VALUES, extra={})
    if request_id:
        dsr = request_get(org=org, request_id=request_id)
        if dsr.outcome and dsr.outcome.get("reason"):
            values.reasons = dsr.outcome["reason"]
    else:
        dsr = _sample_request(org, pack_by_id(pack) if pack else clocks.get_pack("GB"), now)
    return _preview(dsr, draft, values, now=now)


def _preview(dsr: DataSubjectRequest, template: Resolved, values: ActionValues, *, now: datetime) -> Preview:
    from requests_app.clock import pack_for

    context = message_context(dsr, kind=template.kind, locale=template.locale, values=values, now=now)
    used = check_template(
        subject=template.subject, body_text=template.body_text, body_html=template.body_html
    )
    parts = render(
        subject=template.subject, body_text=template.body_text, body_html=template.body_html, context=context
    )
    checks = legal_checks(pack_for(dsr), template.kind, used, context)
    return Preview(parts.subject, parts.body_text, parts.body_html, checks)


def message_custom(
    *,
    org: Org,
    request_id: str,
    actor: str,
    subject: str,
    body_text: str,
    locale: str | None = None,
    now: datetime | None = None,
) -> tuple[ActionResult, Message]:
    """An officer's own message to the subject (kind CUSTOM), on any request, open or answered."""
    locale = _locale(locale) if locale else None
    if not subject.strip() or not body_text.strip():
        raise ValidationFailed.field("bodyText" if subject.strip() else "subject", "Must not be blank.")
    queued: list[Message] = []

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[Any]) -> Change:
        return Change(event_type="message.queued", data={})

    def notice(dsr: DataSubjectRequest, at: datetime) -> dict[str, Any]:
        message = message_queue(
            dsr=dsr,
            kind="CUSTOM",
            notify=Notify(locale=locale),
            values=ActionValues(subject_line=" ".join(subject.split()), extra_text=body_text),
            actor=actor,
            now=at,
            always=True,
        )
        assert message is not None
        queued.append(message)
        return message_summary(message)

    result = request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="message.send",
        step=step,
        notes=f"Message to the subject: {' '.join(subject.split())[:200]}",
        now=now,
        notice=notice,
    )
    return result, queued[0]


def message_get(*, org: Org, request_id: str, message_id: str) -> Message:
    dsr = request_get(org=org, request_id=request_id)
    message = Message.objects.filter(request=dsr, pk=message_id).first()
    if message is None:
        raise NotFound("No such message on this request.")
    return message


def message_resend(
    *, org: Org, request_id: str, message_id: str, actor: str, now: datetime | None = None
) -> Message:
    """Queue a copy of a message (same subject and body, to the same address), e.g. after it FAILED for
    good or the subject lost it. A message that carried a one-time secret is not copied: 409."""
    now = now or timezone.now()
    original = message_get(org=org, request_id=request_id, message_id=message_id)
    if original.kind in SECRET_KINDS or original.secret_kind:
        raise Conflict(
            "This message carried a one-time code or link, which cannot be sent again: resend the "
            "verification challenge (or offer the delivery again) to send a new one."
        )
    if original.status == MessageStatus.SUPPRESSED:
        raise Conflict(f"This message was never sent: {original.status_reason}")
    with transaction.atomic():
        copy = Message.objects.create(
            org_id=original.org_id,
            request_id=original.request_id,
            kind=original.kind,
            locale=original.locale,
            to_address=original.to_address,
            to_masked=original.to_masked,
            subject=original.subject,
            body_text=original.body_text,
            body_html=original.body_html,
            body_sha256=original.body_sha256,
            template_id=original.template_id,
            template_version=original.template_version,
            legal_checks=original.legal_checks,
            status=MessageStatus.QUEUED,
            next_attempt_at=now,
            ref=original.ref,
            resend_of=original,
            actor=actor,
            created_at=now,
            updated_at=now,
        )
        request_record(
            request_id=original.request_id,
            action="message.resend",
            actor=actor,
            notes=f"{original.kind} message {original.id} sent again as {copy.id}.",
            data={"messageId": copy.id, "resendOf": original.id, "kind": copy.kind},
            now=now,
        )
        from core import wakeup

        transaction.on_commit(wakeup.work_waiting)
    return copy
