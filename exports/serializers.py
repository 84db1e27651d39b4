"""What the export endpoints accept (input) and answer (schema descriptions; the views build plain dicts)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import AwareDateTimeField, StrictCharField, StrictIntegerField, StrictSerializer

from .models import State

# --- input ----------------------------------------------------------------------------------------------


class IdentitiesInput(StrictSerializer):
    email = StrictCharField(
        required=False, max_length=320, help_text="Compared trimmed and case-insensitively."
    )
    phone = StrictCharField(required=False, max_length=64, help_text="Compared by its digits.")


class ScopeInput(StrictSerializer):
    dataSubjectId = StrictCharField(
        min_length=1, max_length=256, help_text="Matched against columns mapped as `subject_id`."
    )
    subjectIdentities = IdentitiesInput(required=False)
    windowStart = AwareDateTimeField(required=False, help_text="Rows whose time column is at or after this.")
    windowEnd = AwareDateTimeField(required=False, help_text="... and before this.")
    campaignIds = serializers.ListField(child=StrictCharField(max_length=256), required=False, max_length=100)
    substrates = serializers.ListField(
        child=StrictCharField(max_length=40),
        required=False,
        max_length=100,
        help_text="Keys of the org's enabled substrates; omitted or [] = all of them.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("windowStart"), attrs.get("windowEnd")
        if start is not None and end is not None and not start < end:
            raise serializers.ValidationError({"windowEnd": ["Must be after windowStart."]})
        return attrs


@extend_schema_field(
    {
        "type": "string",
        "enum": ["JSON", "CSV", "NDJSON", "PARQUET"],
        "default": "JSON",
        "description": "Export format. Unrecognised values fall back to JSON (the timeline says so).",
    }
)
class FormatField(StrictCharField):
    """Any string (an unknown one falls back to JSON in the service); anything else is a 400."""


class JobCreateInput(StrictSerializer):
    scope = ScopeInput()
    format = FormatField(required=False, max_length=100, allow_blank=True)
    requestedBy = StrictCharField(required=False, max_length=200, help_text="Defaults to the key's id.")
    requestNotes = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=10_000)
    requestId = StrictCharField(
        required=False, max_length=40, help_text="Link the job to a request of the organisation."
    )
    notify = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With `requestId`: when the bundle is READY, e-mail the subject a link to the download "
        "portal (DELIVERY_READY). Default: the organisation's setting.",
    )


class JobListQuery(StrictSerializer):
    state = serializers.ChoiceField(choices=State.choices, required=False)
    limit = StrictIntegerField(required=False, min_value=1, max_value=200, default=50)
    offset = StrictIntegerField(required=False, min_value=0, max_value=10_000_000, default=0)

    def to_internal_value(self, data: Any) -> Any:
        # Query strings carry text: read the numbers here, strictly (no "5.0", no "+5").
        data = dict(data)
        for name in ("limit", "offset"):
            value = data.get(name)
            if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
                data[name] = int(value)
        return super().to_internal_value(data)


class DownloadQuery(StrictSerializer):
    token = serializers.CharField(required=False, max_length=512, help_text="From `bundleUrl`.")


class SubjectDownloadInput(StrictSerializer):
    """The portal link's token (`t` in `/s/d/{deliveryId}?t=`) and, with step-up, the e-mailed code."""

    token = StrictCharField(max_length=128, help_text="The `t` of the portal link the subject received.")
    code = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=64,
        help_text="The 6-digit code e-mailed after the first attempt, when step-up is on. Omit it to have "
        "one sent.",
    )


# --- answers (schema only) ------------------------------------------------------------------------------


class ExportScopeOutput(serializers.Serializer):
    dataSubjectId = serializers.CharField()
    subjectIdentities = serializers.DictField(child=serializers.CharField(), required=False)
    windowStart = serializers.DateTimeField(required=False)
    windowEnd = serializers.DateTimeField(required=False)
    campaignIds = serializers.ListField(child=serializers.CharField(), required=False)
    substrates = serializers.ListField(child=serializers.CharField(), required=False)


class ExportProgressOutput(serializers.Serializer):
    rowsCollected = serializers.IntegerField()
    rowsExpected = serializers.IntegerField(allow_null=True)
    bytesPackaged = serializers.IntegerField()
    lastHeartbeatAt = serializers.DateTimeField(allow_null=True)
    workerId = serializers.CharField(allow_null=True)


class ExportDeliveryOutput(serializers.Serializer):
    bundleR2Key = serializers.CharField(allow_null=True)
    bundleSizeBytes = serializers.IntegerField(allow_null=True)
    bundleSha256 = serializers.CharField(allow_null=True)
    bundleUrl = serializers.CharField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)
    downloadedAt = serializers.DateTimeField(allow_null=True)
    downloadedBy = serializers.CharField(allow_null=True)


class ExportFailureOutput(serializers.Serializer):
    message = serializers.CharField()
    failedAt = serializers.DateTimeField()
    workerId = serializers.CharField(allow_null=True)


class ExportEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)


class ExportJobOutput(serializers.Serializer):
    id = serializers.CharField(help_text="`dsar:` + a ULID.")
    orgId = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    format = serializers.ChoiceField(choices=["JSON", "CSV", "NDJSON", "PARQUET"])
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    scope = ExportScopeOutput()
    requestedBy = serializers.CharField()
    requestNotes = serializers.CharField(allow_null=True)
    requestId = serializers.CharField(allow_null=True)
    notify = serializers.BooleanField(help_text="Whether the linked request's subject is told when READY.")
    progress = ExportProgressOutput()
    delivery = ExportDeliveryOutput()
    failure = ExportFailureOutput(allow_null=True)
    timeline = ExportEntryOutput(many=True)


class ExportAuditReportOutput(serializers.Serializer):
    jobId = serializers.CharField()
    orgId = serializers.CharField()
    requestedBy = serializers.CharField()
    requestedAt = serializers.DateTimeField()
    generatedAt = serializers.DateTimeField()
    sectionCounts = serializers.DictField(child=serializers.IntegerField())
    totalRecords = serializers.IntegerField()
    redactionNotes = serializers.ListField(child=serializers.CharField())
    scopeNotes = serializers.ListField(child=serializers.CharField())


class JobCreatedAnswer(serializers.Serializer):
    job = ExportJobOutput()
    activeLimit = serializers.IntegerField()


class JobAnswer(serializers.Serializer):
    job = ExportJobOutput()
    auditReport = ExportAuditReportOutput(allow_null=True)


class JobOnlyAnswer(serializers.Serializer):
    job = ExportJobOutput()


class JobListAnswer(serializers.Serializer):
    jobs = ExportJobOutput(many=True)
    total = serializers.IntegerField()
    filteredCount = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="All seven states, zeros included."
    )
    activeCount = serializers.IntegerField()
    activeLimit = serializers.IntegerField()


class SubjectCodeSentAnswer(serializers.Serializer):
    codeSent = serializers.BooleanField(help_text="Always true: a code went to the subject's address.")
    toMasked = serializers.CharField(help_text="Where it went, masked (`j•••e@example.org`).")
    expiresAt = serializers.DateTimeField(help_text="Until when the code works (15 minutes).")


class SubstrateSectionOutput(serializers.Serializer):
    name = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())


class SubstrateOutput(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=["dsar_core", "sql", "files"])
    description = serializers.CharField(allow_blank=True)
    enabled = serializers.BooleanField()
    sections = SubstrateSectionOutput(many=True)


class SubstrateListAnswer(serializers.Serializer):
    substrates = SubstrateOutput(many=True)
