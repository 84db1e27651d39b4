"""What each API operation is for, in product words: the summary and description the OpenAPI schema shows.

Keyed by operationId. core.schema adds what it can derive itself (the scope a key needs, the error
answers, the envelope), so these texts say only what the code cannot: purpose, rules, effect on the clock.
A new operation without an entry here is a schema warning, and `spectacular --fail-on-warn` fails on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperationDoc:
    summary: str
    description: str
    tag: str
    # 409 answers this operation gives besides `conflict` (idempotency-key reuse, a concurrent change).
    conflicts: tuple[str, ...] = ()
    # Why a 409 happens here, beyond those two.
    conflict_note: str = ""
    # Why a 403 happens here, beyond a key without the operation's scope.
    forbidden_note: str = ""
    # The answer is the bare body, not wrapped in the success envelope.
    bare: bool = False


_TIMESTAMPS = (
    "Timestamps are ISO 8601 with a UTC offset, on or after 1900-01-01T00:00:00Z and before "
    "2200-01-01T00:00:00Z."
)

_INTAKE = (
    "`jurisdiction` is a policy-pack code (see `GET /v1/policy-packs`); it selects the statutory period "
    "and the holiday calendar. `intakeSource.receivedAt` is when the organisation received the request: "
    "the legal clock starts from it, and it may not lie in the future. The top-level `receivedAt` is when "
    "this system recorded it: it defaults to now and may be later, never earlier. Without `requestTypes` "
    "the types are inferred from `intakeSource.rawText`, and the answer says so (`requestTypesInferred`).\n\n"
    "`authority` records evidence that an agent, parent or representative may act for the subject. "
    "Each evidence artifact has a `kind` and optionally a `uri`, a `description` and a `receivedAt` "
    "(a signed letter that came by post has no URI). Anyone with the intake scope may submit evidence as "
    "`PENDING`; only a key with the `officer` scope may record a decision (`VERIFIED`, `REJECTED`) — the "
    "same body from another key is refused with 403 `forbidden`. `verifiedAt` may not lie in the future.\n\n"
    + _TIMESTAMPS
)

_LIFECYCLE = (
    "Optional `occurredAt`: when the action really happened (an officer recording today an e-mail sent "
    "yesterday). It defaults to now, may not lie in the future, nor before the request's latest timeline "
    "entry; the clock uses it, and the timeline keeps both it and the time of recording. "
    + _TIMESTAMPS
    + "\n\nAnswers 202 with the request, the transition, the clock block and the ids of the notification "
    "events emitted. Every change appends a timeline entry."
)

_DECISION = "or the body records an authority decision (`VERIFIED`, `REJECTED`) without the `officer` scope"

_NOT_ALLOWED = (
    "the action is not allowed in the request's current status (`invalid_transition`; `details` lists "
    "the actions allowed now)"
)


def _lifecycle(
    summary: str, what: str, *, tag: str = "Lifecycle", note: str = "", forbidden_note: str = ""
) -> OperationDoc:
    return OperationDoc(
        summary=summary,
        description=f"{what}\n\n{_LIFECYCLE}",
        tag=tag,
        conflicts=("invalid_transition",),
        conflict_note=note or _NOT_ALLOWED,
        forbidden_note=forbidden_note,
    )


OPERATIONS: dict[str, OperationDoc] = {
    "requests_create": OperationDoc(
        summary="Record a new request",
        description=(
            "Record a data subject request as the organisation received it, and start its legal clock.\n\n"
            + _INTAKE
            + "\n\nAnswers 202 with the Request resource, its clock included."
        ),
        tag="Requests",
        forbidden_note=_DECISION,
    ),
    "requests_capture": OperationDoc(
        summary="Record a new request and explain its deadline",
        description=(
            "The same as `POST /v1/requests`, and the answer also carries `dueContext`: the explanation of "
            "the deadline (as `GET /v1/requests/{id}/clock/explain` gives it), computed in the same call.\n\n"
            + _INTAKE
        ),
        tag="Requests",
        forbidden_note=_DECISION,
    ),
    "requests_list": OperationDoc(
        summary="List requests",
        description=(
            "The organisation's requests, filtered and sorted; all filters compose. Default order: newest "
            "first, or most urgent first when sorting by `dueDate`. Answers `requests`, `total` (matching "
            "requests), `limit` and `offset`. A query parameter this operation does not know, or a value "
            "out of range, is a 400 naming it."
        ),
        tag="Requests",
    ),
    "requests_retrieve": OperationDoc(
        summary="Get a request",
        description=(
            "One request with its live clock: the due date and time in the pack's zone, days remaining, "
            "whether it is at risk or overdue, and the acknowledgement deadline where the law has one. "
            "Another organisation's request answers 404, exactly as an id that does not exist."
        ),
        tag="Requests",
    ),
    "requests_timeline": OperationDoc(
        summary="Get a request's timeline",
        description=(
            "Everything that happened to the request, oldest first: when each action happened (`at`), when "
            "it was recorded (`recordedAt`), who did it, the status before and after, notes and data. "
            "Entries are append-only."
        ),
        tag="Requests",
    ),
    "requests_clock_explain": OperationDoc(
        summary="Explain a request's deadline",
        description=(
            "How the due date was reached, step by step: the policy pack and the law it cites, the zone, "
            "when the clock started, the statutory period, extensions, pauses (clarification, "
            "verification, authority) and their effect, weekend and holiday adjustments with their "
            "reasons, per-type deadlines and the acknowledgement deadline."
        ),
        tag="Requests",
    ),
    "requests_acknowledgements_create": _lifecycle(
        "Acknowledge a request",
        "Record that the request was acknowledged to the requester: `RECEIVED` → `ACKNOWLEDGED`. Where the "
        "law sets an acknowledgement deadline (CCPA), this meets it.",
    ),
    "requests_clarifications_request_create": _lifecycle(
        "Ask the requester for clarification",
        "Record that clarification was asked of the requester (`message`, required): `RECEIVED` or "
        "`ACKNOWLEDGED` → `AWAITING_CLARIFICATION`. The clock pauses, or not, as the policy pack says.",
    ),
    "requests_clarifications_receive_create": _lifecycle(
        "Record the clarification received",
        "Record that the requester's clarification arrived: the request goes back to the status it came "
        "from, and the clock resumes or restarts as the policy pack says.",
    ),
    "requests_extensions_create": _lifecycle(
        "Extend the deadline",
        "Extend the response deadline, for the `reason` given (required). `extendBy` (`DAYS` or `MONTHS`, "
        "1 to 366) asks for part of the extension; without it the pack's full extension is granted. The "
        "status is kept.",
        note=(
            f"{_NOT_ALLOWED}; also when the pack allows no extension, the extension asked for goes beyond "
            "the pack's maximum or is used up, or the due date has passed at `occurredAt` — the message "
            "says why"
        ),
    ),
    "requests_refusals_create": _lifecycle(
        "Refuse a request",
        "Refuse the request: any open status → `REFUSED`; the clock stops, and the clock block says whether "
        "it was answered late (`answeredLate`). Give at least one of `reason`, `message` (what the "
        "requestor is told) or `rationale` (the justification on record); `notes` stay internal. Where the "
        "law grants an appeal, the requestor may then appeal (`POST …/appeals`).",
    ),
    "requests_closures_create": _lifecycle(
        "Close a request",
        "Close the request with its `outcome` (required: `FULFILLED`, `PARTIALLY_FULFILLED` or "
        "`WITHDRAWN`; nothing is assumed): any open status → `CLOSED`; the clock stops, and the clock block "
        "says whether it was answered late (`answeredLate`). `message` is what the requestor is told (kept "
        "in `outcome.message`); `notes` stay internal (the timeline).",
    ),
    "requests_request_types_update": _lifecycle(
        "Correct the request types",
        "Replace the request's types (`requestTypes`, at least one) when they were inferred wrongly or the "
        "requestor clarified what they want. Every per-type deadline is recomputed from receipt (a CCPA "
        "opt-out is due in 15 business days, access in 45 calendar days), `requestTypesInferred` becomes "
        "false, and `request.types_changed` is emitted. Open requests only; the status is kept.",
    ),
    "requests_appeals_create": _lifecycle(
        "Record an appeal",
        "Record that the requestor appealed a refused or closed request (`REFUSED` or `CLOSED` → "
        "`APPEALED`). `receivedAt` (required) is when the organisation received the appeal: the appeal's "
        "own clock — the policy pack's appeal period — starts from it; it may not lie in the future nor "
        "before the request's latest timeline entry. While the appeal is open, the clock block's `dueDate` "
        "is the appeal's (`deadlineKind: APPEAL`), and the explanation lists it in `deadlines`. Only US "
        "state laws that grant an appeal have one: elsewhere the answer is 409 `invalid_transition` naming "
        "the regulator the requestor may complain to.",
        note=(
            "the request is not refused or closed, is already appealed, or its law grants no appeal (the "
            "message names the regulator to complain to)"
        ),
    ),
    "requests_appeals_decision_create": _lifecycle(
        "Decide an appeal",
        "Record the decision on the open appeal: `outcome` (required) `UPHELD` (the answer stands), "
        "`REVERSED` or `PARTIALLY_REVERSED`, with the `message` the requestor is told and the `rationale`. "
        "`APPEALED` → `APPEAL_DECIDED` (terminal); the appeal's clock stops, and `answeredLate` says whether "
        "the decision came after its due date.",
    ),
    "requests_requestor_update": _lifecycle(
        "Replace the requestor",
        "Replace who made the request and how they relate to the subject (`type` required; `name`, "
        "`email`, `relation` optional). The status and the clock are kept.",
    ),
    "requests_verification_request_create": _lifecycle(
        "Ask the subject to verify their identity",
        "Record that identity information was asked of the subject (`method` optional, e.g. how). The "
        "status is kept; the clock pauses, or not, as the policy pack says.",
    ),
    "requests_verification_receive_create": _lifecycle(
        "Record the identity information received",
        "Record that the identity information asked for arrived. Optional `method` (`MANUAL`, "
        "`KNOWN_FACTS`, `ACCOUNT_LOGIN`, `DOCUMENT`) and `checked` (`[{kind, matched}]`: what was compared, "
        "never a document or the values) go on the timeline entry; a pending verification challenge is "
        "cancelled. The status is kept; a paused clock resumes as the policy pack says.",
    ),
    "requests_verification_challenges_create": OperationDoc(
        summary="Send the subject a verification code or link",
        description=(
            "Runs the `verification/request` step and e-mails the subject a one-time secret: `EMAIL_CODE` "
            "(6 digits, valid 15 minutes, answered with `POST /v1/subject/verify`) or `EMAIL_LINK` (a "
            "`/s/verify/{token}` link, valid 72 hours, confirmed on its page; one reminder after 24 hours). "
            "The policy pack decides what the step does to the clock (UK GDPR: the period runs from the "
            "subject's answer; CCPA: nothing). When identity information is already awaited (an earlier "
            "challenge expired or was locked), the step is not run again — the clock does not move twice — "
            "and the transition is `verification.challenge`.\n\n"
            "`destination` defaults to the request's e-mail address (the requestor's, else the contact); any "
            "other address needs `destinationReason`, which the timeline keeps. `locale` picks the message's "
            "language. Only a masked address is ever shown; the secret is kept as a keyed hash, never "
            "shown.\n\n"
            "Answers 202 with the lifecycle envelope and the `challenge` `{id, method, destinationMasked, "
            "expiresAt, attemptsLeft, status}`."
        ),
        tag="Identity verification",
        conflicts=("invalid_transition",),
        conflict_note=(
            "the request is not open, or its types need no identity verification under its pack (CCPA "
            "opt-out and limit requests) (`invalid_transition`); a challenge is already pending (`conflict`)"
        ),
    ),
    "requests_verification_challenges_resend": OperationDoc(
        summary="Send a verification challenge again",
        description=(
            "A new code or link for a pending challenge, valid for its full lifetime again; the previous one "
            "stops working at once. At most 3 sends per challenge (the first included) and one a minute: "
            "429 `rate_limited` with `Retry-After` otherwise. Wrong codes already entered still count. The "
            "clock is not affected; the timeline records the resend."
        ),
        tag="Identity verification",
        conflicts=("invalid_transition",),
        conflict_note=(
            "the challenge is no longer pending (verified, expired, locked or cancelled) or the request is "
            "not open (`invalid_transition`)"
        ),
    ),
    "subject_verify": OperationDoc(
        summary="Verify the subject's identity with a code or a link",
        description=(
            "No key: the data subject's answer to a challenge, `{challengeId, code}` for a code (ASCII "
            "digits; spaces and hyphens are ignored) or `{token}` for a link. A right answer runs the "
            "`verification/receive` step once, as `subject:<challengeId>` (concurrent right answers verify "
            "once), and answers `{verified: true, requestRef, orgName}`. A wrong, expired, locked, used, "
            "cancelled, unknown or another organisation's challenge answers 401 with one identical body; "
            "five wrong codes lock a challenge. Malformed input (not six ASCII digits, a missing field) is a "
            "400. Rate-limited per client address; takes no `Idempotency-Key`."
        ),
        tag="Subject portal",
    ),
    "requests_authority_request_create": _lifecycle(
        "Ask the agent for proof of authority",
        "Record that proof of authority was asked of the agent acting for the subject. The status is kept; "
        "under some laws (UK GDPR) the clock waits for the proof.",
        tag="Authority",
    ),
    "requests_authority_submit_create": _lifecycle(
        "Submit evidence of authority",
        "Record evidence that the agent may act for the subject: `evidenceArtifacts` (1 to 50; each a `kind` "
        "and optionally a `uri`, a `description` and a `receivedAt` — a signed letter that came by post has "
        "no URI) and a `status`. A key with the intake scope submits `PENDING` evidence for an officer to "
        "decide; recording a decision (`VERIFIED`, `REJECTED`) needs the `officer` scope, and the same body "
        "from another key is refused with 403 `forbidden`. `verifiedAt` may not lie in the future. The "
        "status is kept; a clock waiting for the proof resumes as the policy pack says.",
        tag="Authority",
        forbidden_note=_DECISION,
    ),
    "requests_authority_approve_create": _lifecycle(
        "Approve the evidence of authority",
        "Decide that the submitted evidence proves the agent's authority (`VERIFIED`). The status and the "
        "clock are kept.",
        tag="Authority",
    ),
    "requests_authority_reject_create": _lifecycle(
        "Reject the evidence of authority",
        "Decide that the submitted evidence does not prove the agent's authority (`REJECTED`), with an "
        "optional `reason`. The status and the clock are kept.",
        tag="Authority",
    ),
    "requests_notifications": OperationDoc(
        summary="List a request's notification events",
        description=(
            "The events the request emitted, oldest first, each with its webhook deliveries: status "
            "(`PENDING`, `DELIVERED`, `FAILED`, `DEAD`), attempt count, the receiver's response code, "
            "latency and error, and the attempts themselves.\n\n"
            "Paginated: `limit` events per page (1 to 200, default 50). When more events follow, the answer "
            "carries `nextCursor`: pass it unchanged as `cursor` to get the next page; it is absent on the "
            "last page. Walking the pages visits every event once, in order. "
            "A cursor this API did not return is refused (400 `validation_error` on `cursor`).\n\n"
            "An event lists at most its 20 latest deliveries (replays included), oldest first; "
            "`deliveryCount` says how many it has in all."
        ),
        tag="Notifications",
    ),
    "requests_notifications_replay": OperationDoc(
        summary="Replay a notification event",
        description=(
            "Send an event again as a new delivery with the same event id (receivers deduplicate on it): "
            "to one endpoint (`endpointId`) or to every active endpoint that subscribes to the event's "
            "type. Answers 202 with the event and the new deliveries.\n\n"
            "Quota: an event can be replayed at most 10 times in any rolling hour (the installation may "
            "set another number). Beyond that the answer is 429 `rate_limited`, and `Retry-After` gives the "
            "seconds until the oldest replay counted leaves the hour. A refused replay does not count; "
            "an idempotent retry (same `Idempotency-Key` and body) returns the first answer and does not "
            "count again."
        ),
        tag="Notifications",
        conflict_note=(
            "the endpoint is disabled or does not subscribe to the event's type, or no active endpoint "
            "subscribes to it (`conflict`)"
        ),
    ),
    "webhook_endpoints_create": OperationDoc(
        summary="Register a webhook endpoint",
        description=(
            'Register a receiver for notification events: `url`, `eventTypes` (names, or `["*"]` for '
            "all) and an optional `description`. The URL must be `https` (payloads carry personal data) "
            "unless the installation allows private networks, and its host must resolve now, to public "
            "addresses unless private networks are allowed. Answers 201 with the endpoint and its signing "
            "`secret` (`whsec_…`), shown in this answer only: an idempotent replay (same `Idempotency-Key`) "
            "answers the same endpoint with `secret: null`. Deliveries are signed the Standard Webhooks way."
        ),
        tag="Webhook endpoints",
        conflict_note=(
            "the organisation already has the most live endpoints allowed (`DSAR_WEBHOOK_MAX_ENDPOINTS`, "
            "default 20; `conflict`)"
        ),
    ),
    "webhook_endpoints_list": OperationDoc(
        summary="List webhook endpoints",
        description=(
            "The organisation's webhook endpoints with their status (`ACTIVE`, or `DISABLED` with the "
            "reason), their last rotation and their circuit breaker (`consecutiveFailures`, "
            "`backoffUntil`), never their secrets."
        ),
        tag="Webhook endpoints",
    ),
    "webhook_endpoints_update": OperationDoc(
        summary="Change a webhook endpoint",
        description=(
            "Change any of `url`, `eventTypes`, `description` and `status` (at least one; the others keep "
            "their values). A new URL is checked as at registration. `status: DISABLED` stops deliveries "
            "to it (those not yet sent end as `DEAD`); `status: ACTIVE` re-enables a disabled endpoint — "
            "one disabled because its receiver answered 410 Gone included — with its circuit breaker "
            "closed, so the next event is delivered again. Answers 200 with the endpoint, without its "
            "secret."
        ),
        tag="Webhook endpoints",
    ),
    "webhook_endpoints_rotate_secret": OperationDoc(
        summary="Rotate a webhook endpoint's signing secret",
        description=(
            "Replace the endpoint's signing secret. Answers 200 with the endpoint and its new `secret`, "
            "shown in this answer only (an idempotent replay answers `secret: null` and rotates nothing). "
            "For the next 24 hours by default (until `previousSecretExpiresAt`) every delivery carries two "
            "signatures in `webhook-signature`, space-separated as Standard Webhooks allows: one with the "
            "new secret and one with the previous, so a receiver can switch secrets without missing a "
            "delivery."
        ),
        tag="Webhook endpoints",
    ),
    "webhook_endpoints_delete": OperationDoc(
        summary="Delete a webhook endpoint",
        description=(
            "Stop sending events to an endpoint. Its delivery history stays; deliveries not yet sent end "
            "as `DEAD`."
        ),
        tag="Webhook endpoints",
    ),
    "compliance_dsar_create": OperationDoc(
        summary="Request an export job",
        description=(
            "Ask for everything the organisation holds about one data subject, from its registered substrates"
            " (`GET /v1/substrates`), packaged as one bundle. `scope.dataSubjectId` is matched against "
            "columns mapped as `subject_id`; `scope.subjectIdentities` (`email`, `phone`) against columns "
            "mapped as those identities; `windowStart`/`windowEnd` keep rows whose time column lies in "
            "[start, end); `campaignIds` and `substrates` narrow it further (omitted or `[]`: every enabled "
            "substrate). `format` is `JSON` (default), `CSV`, `NDJSON` or `PARQUET`; another string falls "
            "back to JSON and the timeline says so. `requestId` links the job to a request: the request's "
            "identities fill `subjectIdentities` where not given, and its timeline records the bundle's READY"
            " and DELIVERED. Answers 202 with the job in `REQUESTED` and `activeLimit`; with that many jobs "
            "already active (REQUESTED, COLLECTING or PACKAGING) the answer is 429 `rate_limited`."
        ),
        tag="Exports",
    ),
    "compliance_dsar_list": OperationDoc(
        summary="List export jobs",
        description=(
            "The organisation's export jobs, newest first, optionally of one `state`, paged with `limit` "
            "(1-200, default 50) and `offset`. `counts` has every one of the seven states, zeros included; "
            "`total` counts every job, `filteredCount` those of `state`; `activeCount` is the jobs counted "
            "against `activeLimit`."
        ),
        tag="Exports",
    ),
    "compliance_dsar_retrieve": OperationDoc(
        summary="Get an export job",
        description=(
            "One job: its state, progress (rows collected and expected, bytes packaged, the worker holding "
            "it and its last heartbeat), delivery (size, sha256, the signed `bundleUrl` while it can be "
            "downloaded, expiry, who downloaded it) or failure, and its timeline; with its `auditReport` "
            "once READY (null before)."
        ),
        tag="Exports",
    ),
    "compliance_dsar_run": OperationDoc(
        summary="Run an export job",
        description=(
            "Start a REQUESTED job: it moves to COLLECTING, and of two concurrent runs exactly one wins. "
            "When the rows it will read are at most `DSAR_EXPORT_INLINE_ROWS` (default 100,000), it is "
            "collected and packaged in this call: 200 with the job READY and its audit report, or FAILED "
            "with `failure` (naming the substrate and the kind of error; no partial bundle is kept). "
            "Larger jobs, and sources that cannot count their rows, answer 202 with the job COLLECTING; "
            "the background worker finishes it."
        ),
        tag="Exports",
        conflicts=("invalid_transition",),
        conflict_note="the job is not REQUESTED (`invalid_transition`; `details` lists what is allowed now)",
    ),
    "compliance_dsar_download": OperationDoc(
        summary="Download an export bundle",
        description=(
            "The bundle (a ZIP with `manifest.json`, `audit_report.json`, `README.txt` and one file per "
            "section), with a Bearer key holding `export`, or with the `token` of `bundleUrl` alone (no "
            "key). `Repr-Digest` and `ETag` carry its sha256, `Cache-Control: no-store`. The first download "
            "moves the job from READY to DELIVERED; later ones until `expiresAt` are allowed and recorded. "
            "A tampered, expired or revoked token answers 401; a job with no bundle (not yet READY, or "
            "expired) 409 `invalid_transition`."
        ),
        tag="Exports",
        conflicts=("invalid_transition",),
        conflict_note="there is no bundle to download now (`invalid_transition`)",
        bare=True,
    ),
    "compliance_dsar_revoke_link": OperationDoc(
        summary="Revoke an export's download links",
        description=(
            "Every `bundleUrl` issued for the job so far stops working at once (its token answers 401); "
            "the answer shows the job with a new link. Keys with `export` can still download."
        ),
        tag="Exports",
    ),
    "subject_deliveries_download": OperationDoc(
        summary="Download a bundle delivered to the data subject",
        description=(
            "No key: the data subject's own download, with the `token` of the portal link "
            "(`/s/d/{deliveryId}?t=<token>`) that the DELIVERY_READY message gave them. Streams the bundle "
            "exactly as the export download does (`Content-Length`, `ETag`, `Repr-Digest`, "
            "`Cache-Control: no-store`); the first download moves the job from READY to DELIVERED with "
            '`downloadedBy: "subject"`. With step-up on (`DSAR_DELIVERY_STEP_UP=email`), a call without '
            "`code` e-mails a 6-digit code to the subject (202 `{codeSent: true}`; at most one a minute, "
            "valid 15 minutes, each replacing the one before) and the download needs it; five wrong codes "
            "revoke the link. An unknown, wrong, revoked or expired link answers 401 with one identical body."
        ),
        tag="Subject portal",
        conflicts=("invalid_transition",),
        conflict_note="the bundle is no longer in storage (`invalid_transition`)",
    ),
    "substrates_list": OperationDoc(
        summary="List substrates",
        description=(
            "The data sources export jobs read: the built-in `dsar_core` (this system's own records about "
            "the subject) and those the organisation registered, each with its kind, description, whether "
            "it is enabled and its sections with their columns. Never a DSN, a path or a secret."
        ),
        tag="Exports",
    ),
    "dsr_list": OperationDoc(
        summary="List requests in the DSR feed format",
        description=(
            "The same requests as `GET /v1/requests`, newest first, in the snake_case rows of the DSR feed "
            "(page 004): `type` is the primary request type in lower case, `status` lower case. The body "
            "is not wrapped in the success envelope, so that its clients work unchanged; errors still use "
            "the error envelope. Page with `limit` and the `next_cursor` of the previous page; "
            "`next_cursor` is absent on the last page. `items` is a deprecated alias of `requests`."
        ),
        tag="DSR feed",
        bare=True,
    ),
    "policy_packs_list": OperationDoc(
        summary="List policy packs",
        description=(
            "Every jurisdiction code the clock knows, with its policy pack's id, version, law and citation: "
            "the values `jurisdiction` accepts."
        ),
        tag="Policy packs",
    ),
    # --- correspondence with the subject (correspondence/) ---------------------------------------------
    "message_templates_list": OperationDoc(
        summary="List message templates",
        description=(
            "The organisation's current templates, then the built-in ones: for `pack` (ids "
            "`builtin:<pack>:<kind>:<locale>`), or without it the texts every pack shares "
            "(`builtin:*:<kind>:<locale>`). Filters `kind`, `pack`, `locale` compose."
        ),
        tag="Correspondence",
    ),
    "message_templates_create": OperationDoc(
        summary="Save a message template",
        description=(
            "A template for one kind, pack (or every pack, without `pack`) and locale (a BCP 47 tag of a "
            "known language: `fr`, `fr-CA`, `pt-BR`). Saving again for the same kind, pack and locale makes "
            "the next version; messages keep the version they were written from. Templates run in a sandbox: "
            "only the listed variables as plain names, the `if` tag and a few formatting filters. A "
            "forbidden tag or filter (`load`, `include`, `extends`, `safe`, ...), attribute walking, an "
            "unknown variable, a line break in `subject`, a bad locale, or a legal element the pack "
            "requires in this kind of message and the template does not show: 400, naming the field and "
            "the rule."
        ),
        tag="Correspondence",
    ),
    "message_templates_preview": OperationDoc(
        summary="Preview a message template",
        description=(
            "Renders a template (the organisation's or a built-in one) against a request of the organisation "
            "(`requestId`) or a sample one under the template's pack, with its legal checklist: one "
            "`{rule, ok}` per element the pack requires in this kind of message. Changes nothing."
        ),
        tag="Correspondence",
    ),
    "requests_messages_list": OperationDoc(
        summary="List a request's messages to the subject",
        description=(
            "Oldest first, `limit` per page (1-200, default 50) and `nextCursor` while there are more. Each "
            "message gives its status (`QUEUED`, `SENT`, `FAILED` with the reason, `SUPPRESSED` when the "
            "request has no e-mail address), the address masked, and the text as sent with any one-time "
            "code or link masked."
        ),
        tag="Correspondence",
    ),
    "requests_messages_create": OperationDoc(
        summary="Write to the subject",
        description=(
            "An officer's own message (kind `CUSTOM`) to the request's e-mail address, on a request in any "
            "status. It is queued with its timeline entry and event (`message.queued`) and sent by the "
            "background worker; the answer is the lifecycle envelope plus `message`."
        ),
        tag="Correspondence",
    ),
    "requests_messages_resend": OperationDoc(
        summary="Send a message again",
        description=(
            "Queues a copy of a message (same subject and text, same address), e.g. after it failed for "
            "good. A message that carried a one-time code or link cannot be copied (the secret is gone): "
            "409 `conflict` — resend the verification challenge instead. A message never sent "
            "(`SUPPRESSED`) is 409 too."
        ),
        tag="Correspondence",
    ),
}
