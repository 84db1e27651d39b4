"""One small form per lifecycle action, and the table that ties each action to the service the API calls.

The forms only shape input; every rule (is an extension still in time? is `occurredAt` in order? does a
refusal say why?) is the service's or `guards`' — the very functions the API calls — and their refusals
come back to the officer as form errors, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms

import clocks
from authority import services as authority_services
from core.api import ValidationFailed
from correspondence.locales import BadLocale, locale_normalise
from correspondence.notices import Notify

from .. import services
from ..guards import check_closure_input, check_refusal_input
from ..models import AppealOutcome, Channel, ClosureOutcome, DataSubjectRequest, RequestorType, RequestType
from .presenters import CHANNEL_WORDS, OUTCOME_WORDS, localise_message, type_words

_TEXT = 10_000
_LOCAL_INPUTS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

# Service error fields (the API's camelCase names) → the forms' fields.
SERVICE_FIELDS = {
    "occurredAt": "occurred_at",
    "receivedAt": "received_at",
    "reason": "reason",
    "message": "message",
    "rationale": "rationale",
    "outcome": "outcome",
    "requestTypes": "request_types",
    "notes": "notes",
    "message.locale": "locale",
    "message.text": "extra_text",
}

# The fields an action that may write to the subject adds to its form (→ the service's `notify=`).
NOTIFY_FIELDS = ("notify", "locale", "extra_text")


def place_service_error(form: forms.Form, exc: ValidationFailed, *, zone: str) -> None:
    """Put a service's 400 on the fields it names (the form's error list otherwise), its times local."""
    placed = False
    for detail in exc.details:
        name = SERVICE_FIELDS.get(detail.get("field", ""))
        if name and name in form.fields:
            form.add_error(name, localise_message(detail.get("message") or exc.message, zone))
            placed = True
    if not placed:
        form.add_error(None, localise_message(exc.message, zone))


def _local_datetime(label: str, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        required=required,
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=_LOCAL_INPUTS,
    )


class ActionForm(forms.Form):
    """Common to every action: when it really happened (optional), read in the request's own zone.

    A form whose service takes no `occurred_at` (the appeal: its `received_at` is the date) sets
    `occurred_at = None`.
    """

    occurred_at: forms.Field | None = _local_datetime("Occurred at", required=False)
    # The action sends the subject a letter (correspondence): "Tell the subject" and its language are
    # offered; `letter_extra`: the officer may add words to the letter (where the action has no message of
    # its own that the letter already carries).
    tells_subject = False
    letter_extra = False

    def __init__(self, *args: Any, dsr: DataSubjectRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dsr = dsr
        if self.tells_subject:
            self._add_notify_fields(dsr)
        for field in self.fields.values():
            if isinstance(field, forms.DateTimeField):
                field.help_text = field.help_text or (
                    f"When it really happened, as a local time in {dsr.clock_timezone} (the clock's zone). "
                    "Leave empty for now."
                )
        # Field order: the action's own fields first, the date last.
        if "occurred_at" in self.fields:
            self.order_fields([name for name in self.fields if name != "occurred_at"] + ["occurred_at"])

    def _add_notify_fields(self, dsr: DataSubjectRequest) -> None:
        self.fields["notify"] = forms.BooleanField(
            required=False,
            initial=dsr.org.notify_subject,
            label="Tell the subject",
            help_text="Send the data subject the letter for this action (by e-mail, from the template).",
        )
        self.fields["locale"] = forms.CharField(
            required=False,
            max_length=35,
            label="Language of the letter",
            help_text=f"A locale such as en, fr or fr-CA; empty: the organisation's "
            f"({dsr.org.default_locale}).",
        )
        if self.letter_extra:
            self.fields["extra_text"] = forms.CharField(
                required=False,
                max_length=_TEXT,
                label="Extra text for the letter",
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="Added to the letter the subject receives.",
            )

    def clean_locale(self) -> str:
        value: str = (self.cleaned_data.get("locale") or "").strip()
        if not value:
            return ""
        try:
            return locale_normalise(value)
        except BadLocale as error:
            raise forms.ValidationError(str(error)) from None

    def notify(self) -> Notify | None:
        if not self.tells_subject:
            return None
        data = self.cleaned_data
        return Notify(
            enabled=bool(data.get("notify")),
            locale=data.get("locale") or None,
            extra_text=(data.get("extra_text") or "").strip(),
        )

    def service_kwargs(self) -> dict[str, Any]:
        """The service's keyword arguments from the cleaned data (occurred_at is passed separately)."""
        kwargs = {k: v for k, v in self.cleaned_data.items() if k != "occurred_at" and k not in NOTIFY_FIELDS}
        notify = self.notify()
        if notify is not None:
            kwargs["notify"] = notify
        return kwargs


def _notes() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=_TEXT,
        label="Internal notes",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on the timeline for officers; never sent to the requestor.",
    )


def _to_requestor(help_text: str = "What the requestor is told.") -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=_TEXT,
        label="Message to the requestor",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=help_text,
    )


def _choices(values: list[str], words: dict[str, str], *, blank: str | None = None) -> list[tuple[str, str]]:
    first = [("", blank)] if blank is not None else []
    return first + [(v, words.get(v, v).capitalize()) for v in values]


class AcknowledgeForm(ActionForm):
    tells_subject = True
    letter_extra = True
    notes = _notes()


class ClarificationRequestForm(ActionForm):
    tells_subject = True
    message = forms.CharField(
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you asked the requestor to clarify.",
    )
    notes = _notes()


class ClarificationReceiveForm(ActionForm):
    notes = _notes()


class ExtendForm(ActionForm):
    tells_subject = True
    letter_extra = True
    reason = forms.CharField(
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it needs more time (e.g. complex or numerous requests). Sent with the notice.",
    )
    amount = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=366,
        help_text="Leave empty for what is left of the law's extension.",
    )
    unit = forms.ChoiceField(
        required=False, choices=[("", "—"), ("MONTHS", "months"), ("DAYS", "calendar days")]
    )
    notes = _notes()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("amount")) != bool(data.get("unit")):
            raise forms.ValidationError("Give both an amount and a unit, or neither for the full extension.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        unit = data.pop("unit")
        if data.get("amount") is None:
            data.pop("amount", None)
        else:
            data["unit"] = clocks.Unit.parse(unit)
        return data


class RefuseForm(ActionForm):
    """The API's rule, from the same function: at least one of reason, message or rationale."""

    tells_subject = True

    reason = forms.CharField(
        required=False,
        max_length=_TEXT,
        label="Ground for refusing",
        help_text="e.g. MANIFESTLY_UNFOUNDED or EXCESSIVE.",
    )
    message = _to_requestor("What the requestor is told, with the reasons and how to complain.")
    rationale = forms.CharField(
        required=False,
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your reasoning, kept on the record.",
    )
    notes = _notes()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_refusal_input(
                reason=data.get("reason") or "",
                message=data.get("message") or "",
                rationale=data.get("rationale") or "",
            )
        except ValidationFailed as exc:
            place_service_error(self, exc, zone=self.dsr.clock_timezone)
        return data


class CloseForm(ActionForm):
    tells_subject = True
    outcome = forms.ChoiceField(
        choices=_choices(list(ClosureOutcome.values), OUTCOME_WORDS, blank="— choose the outcome —"),
        help_text="Required: nothing is assumed. A refusal is recorded with “Refuse request”.",
    )
    message = _to_requestor("What the requestor is told about the outcome.")
    notes = _notes()

    def clean_outcome(self) -> str:
        outcome: str = self.cleaned_data["outcome"]
        try:
            check_closure_input(outcome=outcome)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.details[0]["message"] if exc.details else exc.message) from None
        return outcome


class RequestTypesForm(ActionForm):
    request_types = forms.MultipleChoiceField(
        label="Request types",
        choices=[(t.value, type_words(t.value)) for t in RequestType],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one request type."},
        help_text="Every per-type deadline is recomputed from the day of receipt.",
    )
    notes = _notes()

    def __init__(self, *args: Any, dsr: DataSubjectRequest, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"request_types": list(dsr.request_types)})
        super().__init__(*args, dsr=dsr, **kwargs)


class AppealForm(ActionForm):
    occurred_at = None  # the appeal's own date is `received_at`: its clock starts there
    received_at = _local_datetime("Appeal received at", required=True)
    channel = forms.ChoiceField(
        required=False,
        choices=_choices(list(Channel.values), CHANNEL_WORDS, blank="—"),
        label="Received by",
    )
    raw_text = forms.CharField(
        required=False,
        max_length=_TEXT,
        label="The appeal, as received",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    notes = _notes()

    def __init__(self, *args: Any, dsr: DataSubjectRequest, **kwargs: Any) -> None:
        super().__init__(*args, dsr=dsr, **kwargs)
        self.fields["received_at"].help_text = (
            f"When the requestor's appeal reached the organisation, as a local time in {dsr.clock_timezone}. "
            "The appeal's deadline is counted from this day."
        )


class AppealDecideForm(ActionForm):
    tells_subject = True
    outcome = forms.ChoiceField(
        choices=_choices(list(AppealOutcome.values), OUTCOME_WORDS, blank="— choose the decision —")
    )
    message = _to_requestor("What the requestor is told about the decision.")
    rationale = forms.CharField(
        required=False,
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your reasoning, kept on the record.",
    )
    notes = _notes()


class RequestorForm(ActionForm):
    type = forms.ChoiceField(choices=RequestorType.choices)
    name = forms.CharField(required=False, max_length=200)
    email = forms.EmailField(required=False, max_length=320)
    relation = forms.CharField(required=False, max_length=100, help_text="e.g. SELF, PARENT, ATTORNEY.")

    def __init__(self, *args: Any, dsr: DataSubjectRequest, **kwargs: Any) -> None:
        current = dsr.requestor or {}
        kwargs.setdefault("initial", {k: current.get(k) or "" for k in ("type", "name", "email", "relation")})
        super().__init__(*args, dsr=dsr, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        return {"requestor": {k: data.get(k) or None for k in ("type", "name", "email", "relation")}}


class VerificationRequestForm(ActionForm):
    method = forms.CharField(required=False, max_length=100, help_text="e.g. ID document, account login.")
    fraud_suspected = forms.BooleanField(
        required=False,
        label="Fraud suspected",
        help_text=(
            "The request cannot be authenticated and fraud is suspected. Under Utah's law the "
            "response period is suspended until the identity information arrives; under other laws this "
            "changes nothing."
        ),
    )
    notes = _notes()


class VerificationReceiveForm(ActionForm):
    notes = _notes()


class AuthorityRequestForm(ActionForm):
    notes = _notes()


class AuthoritySubmitForm(ActionForm):
    artifacts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "One piece of evidence per line: the kind, then where it is (a URI) or what it is, e.g. "
            "POWER_OF_ATTORNEY s3://evidence/poa.pdf, or SIGNED_LETTER received by post on 20 Nov"
        ),
    )
    status = forms.ChoiceField(
        choices=[("PENDING", "Pending review"), ("VERIFIED", "Verified"), ("REJECTED", "Rejected")]
    )

    def clean_artifacts(self) -> list[dict[str, str]]:
        artifacts = []
        for number, line in enumerate(self.cleaned_data["artifacts"].splitlines(), start=1):
            if not line.strip():
                continue
            kind, _, rest = line.strip().partition(" ")
            rest = rest.strip()
            if not rest:
                raise forms.ValidationError(
                    f"Line {number}: write the kind, a space, then a URI or a description."
                )
            is_uri = "://" in rest and " " not in rest
            artifacts.append({"kind": kind, "uri": rest} if is_uri else {"kind": kind, "description": rest})
        if not artifacts:
            raise forms.ValidationError("At least one piece of evidence is required.")
        return artifacts

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        # Only officers reach the action forms (the page checks the change permission), so a decision may
        # be recorded here.
        return {"evidence_artifacts": data["artifacts"], "status": data["status"], "may_decide": True}


class AuthorityApproveForm(ActionForm):
    notes = _notes()


class AuthorityRejectForm(ActionForm):
    reason = forms.CharField(required=False, max_length=_TEXT)
    notes = _notes()


@dataclass(frozen=True)
class ActionSpec:
    name: str  # as in guards.RULES and the timeline
    label: str
    form_class: type[ActionForm]
    perform: Callable[..., services.ActionResult]
    description: str
    danger: bool = False

    def run(self, form: ActionForm, *, org: Any, request_id: str, actor: str) -> services.ActionResult:
        kwargs = form.service_kwargs()
        if "occurred_at" in form.fields:
            occurred_at: datetime | None = form.cleaned_data.get("occurred_at")
            kwargs["occurred_at"] = occurred_at
        return self.perform(org=org, request_id=request_id, actor=actor, **kwargs)


# In the order the buttons appear (guards.RULES's): the usual path first, the terminal ones last.
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "acknowledge",
            "Acknowledge",
            AcknowledgeForm,
            services.request_acknowledge,
            "Record that receipt was confirmed to the requestor.",
        ),
        ActionSpec(
            "clarification.request",
            "Request clarification",
            ClarificationRequestForm,
            services.request_clarification_request,
            "Ask the requestor to clarify. Under UK GDPR the clock pauses until the answer arrives.",
        ),
        ActionSpec(
            "clarification.receive",
            "Clarification received",
            ClarificationReceiveForm,
            services.request_clarification_receive,
            "The requestor's clarification arrived; the clock resumes.",
        ),
        ActionSpec(
            "verification.request",
            "Request identity verification",
            VerificationRequestForm,
            services.request_verification_request,
            "Ask for identity information. Under UK GDPR the clock waits and restarts when it arrives; "
            "under Utah's law a suspected fraud suspends it.",
        ),
        ActionSpec(
            "verification.receive",
            "Identity information received",
            VerificationReceiveForm,
            services.request_verification_receive,
            "The identity information arrived.",
        ),
        ActionSpec(
            "authority.request",
            "Request proof of authority",
            AuthorityRequestForm,
            authority_services.authority_request,
            "Ask the agent for proof that they may act for the data subject.",
        ),
        ActionSpec(
            "authority.submit",
            "Record authority evidence",
            AuthoritySubmitForm,
            authority_services.authority_submit,
            "Record the proof of authority that was received.",
        ),
        ActionSpec(
            "authority.approve",
            "Approve authority",
            AuthorityApproveForm,
            authority_services.authority_approve,
            "Accept the pending proof of authority.",
        ),
        ActionSpec(
            "authority.reject",
            "Reject authority",
            AuthorityRejectForm,
            authority_services.authority_reject,
            "Reject the pending proof of authority.",
        ),
        ActionSpec(
            "requestor.set",
            "Change requestor",
            RequestorForm,
            services.request_requestor_set,
            "Correct who made the request.",
        ),
        ActionSpec(
            "types.set",
            "Correct request types",
            RequestTypesForm,
            services.request_types_set,
            "Correct inferred or mistaken request types. Every per-type deadline is recomputed.",
        ),
        ActionSpec(
            "extend",
            "Extend deadline",
            ExtendForm,
            services.request_extend,
            "Extend the deadline as the law allows (on an open appeal, the appeal's, where the law allows). "
            "A reason is required; it is sent with the notice.",
        ),
        ActionSpec(
            "close",
            "Close request",
            CloseForm,
            services.request_close,
            "Close the request with its outcome. The clock stops; this cannot be undone.",
            danger=True,
        ),
        ActionSpec(
            "refuse",
            "Refuse request",
            RefuseForm,
            services.request_refuse,
            "Refuse the request: give a reason, a message to the requestor or your rationale (at least one). "
            "The clock stops; this cannot be undone.",
            danger=True,
        ),
        ActionSpec(
            "appeal",
            "Record appeal",
            AppealForm,
            services.request_appeal,
            "Record the requestor's appeal of the answer. The appeal has its own deadline, counted from "
            "the day it was received.",
        ),
        ActionSpec(
            "appeal.decide",
            "Decide appeal",
            AppealDecideForm,
            services.request_appeal_decide,
            "Record the decision on the appeal. This is final and cannot be undone.",
            danger=True,
        ),
    )
}
