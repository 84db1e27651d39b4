"""The built-in substrate `dsar_core`: what this system itself holds about the subject, in the job's org.

Sections:
- `requests`: the org's requests whose contact, requestor e-mail or id is the subject's id, or whose
  requestor e-mail or contact is the scope's e-mail or phone;
- `timeline`: those requests' timeline entries. An entry's actor is given as its kind (officer, API key,
  system), not the officer's name: the subject is owed their data, not the staff's;
- `messages`: what this system wrote to the subject about those requests (correspondence), with the
  place of any one-time code or link masked.

Never keys, secrets, other subjects' requests or another org's anything: every query is filtered by org.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet

from ..types import Mapping, Redaction, SectionPlan, SourceError, SubjectMatch, SubjectScope, Table, Via

BUILTIN_KEY = "dsar_core"

_REQUESTS = Table(
    name="requests",
    subject=SubjectMatch(column="id", identity="subject_id"),
    time_column="receivedAt",
    columns=(
        "id",
        "jurisdiction",
        "requestTypes",
        "status",
        "channel",
        "receivedAt",
        "requestorName",
        "requestorEmail",
        "contact",
        "intakeText",
        "dueDate",
        "outcome",
        "createdAt",
        "updatedAt",
    ),
    types={
        "requestTypes": "json",
        "receivedAt": "timestamp",
        "dueDate": "date",
        "outcome": "json",
        "createdAt": "timestamp",
        "updatedAt": "timestamp",
    },
)
_TIMELINE = Table(
    name="timeline",
    subject=SubjectMatch(via=Via(parent="requests", parent_column="id", column="requestId")),
    time_column="at",
    columns=("requestId", "seq", "at", "action", "fromStatus", "toStatus", "actorKind", "notes"),
    types={"seq": "int64", "at": "timestamp"},
    # The privacy team's working notes stay internal (the API guide says so); the column is kept, empty,
    # and the audit report says why, so the officer can review and disclose them where the law requires.
    redact=(
        Redaction(
            column="notes",
            action="withhold",
            reason="the privacy team's internal working notes; reviewed and disclosed separately where due",
        ),
    ),
)

_MESSAGES = Table(
    name="messages",
    subject=SubjectMatch(via=Via(parent="requests", parent_column="id", column="requestId")),
    time_column="createdAt",
    columns=(
        "requestId",
        "kind",
        "locale",
        "toMasked",
        "subject",
        "bodyText",
        "status",
        "createdAt",
        "sentAt",
    ),
    types={"createdAt": "timestamp", "sentAt": "timestamp"},
)

_REQUEST_FIELDS = (
    "id",
    "jurisdiction",
    "request_types",
    "status",
    "channel",
    "intake_received_at",
    "requestor_name",
    "requestor_email",
    "contact",
    "raw_text",
    "clock_due_date",
    "outcome",
    "created_at",
    "updated_at",
)
_MESSAGE_FIELDS = (
    "request_id",
    "kind",
    "locale",
    "to_masked",
    "subject",
    "body_text",
    "status",
    "created_at",
    "sent_at",
)
_ENTRY_FIELDS = ("request_id", "seq", "at", "action", "from_status", "to_status", "actor", "notes")
_ACTOR_KINDS = {"user": "officer", "apikey": "API key", "command": "command", "system": "system"}


def builtin_mapping() -> Mapping:
    return Mapping(
        key=BUILTIN_KEY,
        kind="dsar_core",
        description="This system's own records about the subject: requests, their timelines and the "
        "messages sent to the subject.",
        tables=(_REQUESTS, _TIMELINE, _MESSAGES),
    )


class DsarCoreSource:
    def __init__(self, mapping: Mapping, *, org_id: str | None):
        if not org_id:
            raise SourceError("not_configured", "The dsar_core substrate needs the job's organisation.")
        self.mapping = mapping
        self.org_id = org_id

    def __enter__(self) -> DsarCoreSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to close: the queries run on Django's own connection, which Django manages."""

    def check(self) -> None:
        """Nothing to check: our own tables, which the migrations keep as the code expects."""

    def _requests(self, scope: SubjectScope) -> QuerySet[Any]:
        from requests_app.models import DataSubjectRequest

        subject = scope.data_subject_id.strip()
        folded = subject.casefold()
        match = Q(pk=subject) | Q(contact=subject) | Q(contact_key=folded) | Q(requestor_email_key=folded)
        if scope.email:
            match |= Q(requestor_email_key=scope.email) | Q(contact_key=scope.email)
        if scope.phone:
            match |= Q(contact=scope.phone.strip())
        return DataSubjectRequest.objects.filter(match, org_id=self.org_id)

    def _query(self, plan: SectionPlan, scope: SubjectScope) -> QuerySet[Any]:
        from requests_app.models import TimelineEntry

        requests = self._requests(scope)
        if plan.table.name == "requests":
            rows: QuerySet[Any] = requests
            time_field = "intake_received_at"
        elif plan.table.name == "messages":
            from correspondence.models import Message

            rows = Message.objects.filter(org_id=self.org_id, request__in=requests.values("pk"))
            time_field = "created_at"
        else:
            rows = TimelineEntry.objects.filter(org_id=self.org_id, request__in=requests.values("pk"))
            time_field = "at"
        if plan.apply_window:
            if scope.window_start is not None:
                rows = rows.filter(**{f"{time_field}__gte": scope.window_start})
            if scope.window_end is not None:
                rows = rows.filter(**{f"{time_field}__lt": scope.window_end})
        return rows

    def count(self, plan: SectionPlan, scope: SubjectScope) -> int | None:
        if plan.skipped:
            return 0
        return self._query(plan, scope).count()

    def rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        if plan.skipped:
            return
        query = self._query(plan, scope)
        if plan.table.name == "requests":
            for row in query.order_by("intake_received_at", "id").values_list(*_REQUEST_FIELDS):
                yield row
            return
        if plan.table.name == "messages":
            from correspondence.notices import shown

            for row in query.order_by("request_id", "created_at", "id").values_list(*_MESSAGE_FIELDS):
                yield (*row[:5], shown(row[5]), *row[6:])
            return
        for row in query.order_by("request_id", "seq").values_list(*_ENTRY_FIELDS):
            actor = row[6]
            yield (*row[:6], _ACTOR_KINDS.get(actor.partition(":")[0], "other"), row[7])
