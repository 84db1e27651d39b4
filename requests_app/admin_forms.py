"""One small form per lifecycle action, and the table that ties each action to the service the API calls.

The forms only shape input; every rule (is an extension still in time? is `occurredAt` in order?) is the
service's, and its refusals come back to the officer as form errors or admin messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms

import clocks
from authority import services as authority_services

from . import services
from .models import DataSubjectRequest, OutcomeKind, RequestorType

_TEXT = 10_000


class ActionForm(forms.Form):
    """Common to every action: when it really happened (optional), read in the request's own zone."""

    occurred_at = forms.DateTimeField(
        required=False,
        label="Occurred at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )

    def __init__(self, *args: Any, dsr: DataSubjectRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dsr = dsr
        self.fields["occurred_at"].help_text = (
            f"When it really happened, as a local time in {dsr.clock_timezone} (the clock's zone). "
            "Leave empty for now."
        )
        # Field order: the action's own fields first, the date last.
        self.order_fields([name for name in self.fields if name != "occurred_at"] + ["occurred_at"])

    def service_kwargs(self) -> dict[str, Any]:
        """The service's keyword arguments from the cleaned data (occurred_at is passed separately)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "occurred_at"}


def _notes() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Internal notes.",
    )


class AcknowledgeForm(ActionForm):
    notes = _notes()


class ClarificationRequestForm(ActionForm):
    message = forms.CharField(
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you asked the requestor to clarify.",
    )
    notes = _notes()


class ClarificationReceiveForm(ActionForm):
    notes = _notes()


class ExtendForm(ActionForm):
    reason = forms.CharField(
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it needs more time (e.g. complex or numerous requests). Sent with the notice.",
    )
    amount = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=366,
        help_text="Leave empty for the law's full extension.",
    )
    unit = forms.ChoiceField(
        required=False, choices=[("", "—"), ("MONTHS", "months"), ("DAYS", "calendar days")]
    )
    notes = _notes()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
    reason = forms.CharField(
        max_length=_TEXT,
        help_text="The ground for refusing, e.g. MANIFESTLY_UNFOUNDED or EXCESSIVE.",
    )
    message = forms.CharField(
        required=False,
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the requestor is told.",
    )
    rationale = forms.CharField(
        required=False,
        max_length=_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your reasoning, kept on the record.",
    )


class CloseForm(ActionForm):
    outcome = forms.ChoiceField(
        choices=[
            (OutcomeKind.FULFILLED, "Fulfilled"),
            (OutcomeKind.PARTIALLY_FULFILLED, "Partially fulfilled"),
            (OutcomeKind.WITHDRAWN, "Withdrawn"),
        ]
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
    name: str  # as in services.ACTIONS and the timeline
    label: str
    form_class: type[ActionForm]
    perform: Callable[..., services.ActionResult]
    description: str
    danger: bool = False

    def run(self, form: ActionForm, *, org: Any, request_id: str, actor: str) -> services.ActionResult:
        occurred_at: datetime | None = form.cleaned_data.get("occurred_at")
        return self.perform(
            org=org, request_id=request_id, actor=actor, occurred_at=occurred_at, **form.service_kwargs()
        )


# In the order the buttons appear: the usual path first, the terminal ones last.
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
            "Ask for identity information. Under UK GDPR the clock waits and restarts when it arrives.",
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
            "extend",
            "Extend deadline",
            ExtendForm,
            services.request_extend,
            "Extend the deadline as the law allows. A reason is required; it is sent with the notice.",
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
            "Refuse the request. A reason is required. The clock stops; this cannot be undone.",
            danger=True,
        ),
    )
}

# Service error fields (the API's camelCase names) → this module's form fields.
SERVICE_FIELDS = {"occurredAt": "occurred_at", "reason": "reason", "message": "message"}
