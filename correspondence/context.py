"""What a template's variables hold for one message: strings only, worked out from the request, its pack and
what the officer gave the action. Dates are written out in the message's language ("4 December 2026",
"4 décembre 2026") in the law's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import formats, translation

import clocks
from requests_app.clock import pack_for, zone
from requests_app.models import DataSubjectRequest

from .locales import language_of

_TYPE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "ACCESS": "access to your personal data",
        "ERASURE": "erasure of your personal data",
        "RECTIFICATION": "correction of your personal data",
        "PORTABILITY": "a portable copy of your personal data",
        "RESTRICTION": "restriction of processing",
        "OBJECTION": "objection to processing",
        "OPT_OUT_SALE": "opting out of the sale or sharing of your personal data",
        "LIMIT_SENSITIVE": "limiting the use of your sensitive personal data",
        "WITHDRAW_CONSENT": "withdrawal of your consent",
    },
    "fr": {
        "ACCESS": "accès à vos données personnelles",
        "ERASURE": "effacement de vos données personnelles",
        "RECTIFICATION": "rectification de vos données personnelles",
        "PORTABILITY": "portabilité de vos données personnelles",
        "RESTRICTION": "limitation du traitement",
        "OBJECTION": "opposition au traitement",
        "OPT_OUT_SALE": "opposition à la vente ou au partage de vos données",
        "LIMIT_SENSITIVE": "limitation de l'usage de vos données sensibles",
        "WITHDRAW_CONSENT": "retrait de votre consentement",
    },
}
_OUTCOME_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "FULFILLED": "we have done what you asked",
        "PARTIALLY_FULFILLED": "we have done part of what you asked",
        "WITHDRAWN": "you withdrew the request",
        "UPHELD": "our decision stands",
        "REVERSED": "we have reversed our decision",
        "PARTIALLY_REVERSED": "we have reversed part of our decision",
    },
    "fr": {
        "FULFILLED": "nous avons fait ce que vous demandiez",
        "PARTIALLY_FULFILLED": "nous avons fait une partie de ce que vous demandiez",
        "WITHDRAWN": "vous avez retiré votre demande",
        "UPHELD": "notre décision est maintenue",
        "REVERSED": "nous revenons sur notre décision",
        "PARTIALLY_REVERSED": "nous revenons en partie sur notre décision",
    },
}
_VERIFICATION_PROCESS = {
    "en": (
        "we send a one-time code or link to the e-mail address you gave us; using it confirms the request "
        "is yours. Where that is not enough for the information you asked for, we tell you what else we "
        "need, and we ask for no more than that."
    ),
    "fr": (
        "nous envoyons un code ou un lien à usage unique à l'adresse électronique que vous nous avez "
        "donnée ; l'utiliser confirme que la demande émane de vous. Si cela ne suffit pas pour les "
        "informations demandées, nous vous disons ce qu'il nous faut de plus, sans rien demander d'autre."
    ),
}
_APPEAL_INSTRUCTIONS = {
    "en": "To appeal, reply to this message or write to us quoting reference {ref} and say that you appeal.",
    "fr": "Pour faire appel, répondez à ce message ou écrivez-nous en citant la référence {ref}.",
}


@dataclass
class ActionValues:
    """What the action that sends the message supplies (all plain text)."""

    reasons: str = ""
    clarification: str = ""
    outcome: str = ""
    extra_text: str = ""
    subject_line: str = ""
    code: str = ""
    link: str = ""
    expires_at: datetime | None = None
    bundle_size: int | None = None
    bundle_sha256: str = ""
    decided_at: datetime | None = None
    # The action's input that supplies `reasons`: a missing value is a 400 on this field.
    reason_field: str = "reason"
    extra: dict[str, str] = field(default_factory=dict)


def _words(table: Mapping[str, Mapping[str, str]], language: str, key: str) -> str:
    return (table.get(language) or table["en"]).get(key) or table["en"].get(key, key.replace("_", " "))


def _phrase(table: Mapping[str, str], language: str) -> str:
    return table.get(language) or table["en"]


def _date(value: date, locale: str) -> str:
    with translation.override(locale):
        return formats.date_format(value, "j F Y")


def _instant(value: datetime, tz: str, locale: str) -> str:
    local = value.astimezone(zone(tz))
    with translation.override(locale):
        return f"{formats.date_format(local, 'j F Y, H:i')} ({local.tzname()})"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def message_context(
    dsr: DataSubjectRequest, *, kind: str, locale: str, values: ActionValues, now: datetime
) -> dict[str, str]:
    pack = pack_for(dsr)
    language = language_of(locale)
    tz = dsr.clock_timezone or pack.timezone
    required = pack.required_elements(kind)
    regulator = pack.regulator
    received = dsr.intake_received_at.astimezone(zone(tz)).date()
    decided = (values.decided_at or now).astimezone(zone(tz)).date()
    appeal_open = pack.appeal_period is not None and kind in ("REFUSAL", "CLOSURE")
    context = {
        "orgName": dsr.org.name,
        "requestRef": dsr.id,
        "requestorName": dsr.requestor_name,
        "receivedDate": _date(received, locale),
        "requestTypes": ", ".join(_words(_TYPE_WORDS, language, t) for t in dsr.request_types),
        "law": pack.law,
        "dueDate": _date(dsr.clock_due_date, locale),
        "newDueDate": _date(dsr.clock_due_date, locale) if kind == "EXTENSION" else "",
        "expectedBy": _date(dsr.clock_due_date, locale),
        "reasons": values.reasons,
        "regulatorName": regulator.name if regulator else "",
        "regulatorUrl": regulator.url if regulator else "",
        "judicialRemedy": (pack.judicial_remedy or "")
        if kind in ("REFUSAL", "APPEAL_DECISION") or "judicialRemedy" in required
        else "",
        "appealInstructions": _phrase(_APPEAL_INSTRUCTIONS, language).format(ref=dsr.id)
        if appeal_open
        else "",
        "appealDeadline": _date(decided + timedelta(days=dsr.org.appeal_window_days), locale)
        if appeal_open
        else "",
        "verificationProcess": _phrase(_VERIFICATION_PROCESS, language)
        if "verificationProcess" in required
        else "",
        "clarification": values.clarification,
        "outcome": _words(_OUTCOME_WORDS, language, values.outcome) if values.outcome else "",
        "extraText": values.extra_text,
        "subjectLine": values.subject_line,
        "code": values.code,
        "link": values.link,
        "expiresAt": _instant(values.expires_at, tz, locale) if values.expires_at else "",
        "bundleSize": _size(values.bundle_size) if values.bundle_size is not None else "",
        "bundleSha256": values.bundle_sha256,
    }
    context.update(values.extra)
    return context


def pack_of(dsr: DataSubjectRequest) -> clocks.PolicyPack:
    return pack_for(dsr)
