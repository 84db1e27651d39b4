"""Schemathesis against our own OpenAPI schema, in process: no generated input may cause a 5xx, every
answer must match the schema (envelopes included), its status codes and its content type — and input the
schema calls valid must not be refused as invalid, unless for a rule no schema can state."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", get_wsgi_application())

# 400s that schema-valid input may still get: rules relative to the clock, to the request's own timeline,
# to another field's value at run time, or to the outside world (DNS). (field regex, message regex)
RULES_NO_SCHEMA_CAN_STATE = [
    (r".*(receivedAt|occurredAt|verifiedAt)", r"May not lie in the future\."),
    (r"occurredAt", r"May not be before the latest timeline entry \(.*\)\."),
    (r"receivedAt", r"When this system recorded the request may not be before intakeSource\.receivedAt\."),
    (r"cursor", r"Not a cursor this API returned\."),
    # Whether a law applies depends on when the request was received, another field of the same body.
    (r"jurisdiction", r"Law not yet in force: .*"),
    # Whether a webhook URL may be used depends on where its host resolves and on the installation's
    # network policy. (Its syntax belongs in the schema: see core.serializers.WebhookUrlField.)
    (r"url", r"The host .* (does not resolve: .*|has no address)\."),
    (r"url", r"Refused: .*\. Webhooks may only go to public addresses\."),
    # Whether Django knows a language (the schema states a locale tag's syntax, not the list of languages).
    (r"(message\.)?locale", r"'.*': unknown language '.*'\."),
    # A template's pack must be one of the packs (GET /v1/policy-packs), a list the schema does not repeat.
    (r"pack", r"Unknown pack '.*'.*"),
    # What a message template may contain: the sandbox's tags, filters and variables, and the elements the
    # law requires of its kind under its pack (correspondence.engine; a grammar no JSON schema states).
    (r"subject|bodyText|bodyHtml", r".+"),
    # Whether a verification `destination` is the request's own address depends on the request.
    (r"destinationReason", r"Required when `destination` is not the request's own e-mail address: .*"),
]


def _no_schema_can_state(detail: dict) -> bool:
    return any(
        re.fullmatch(field, detail.get("field", "")) and re.fullmatch(message, detail.get("message", ""))
        for field, message in RULES_NO_SCHEMA_CAN_STATE
    )


def _all_positive(case) -> bool:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return False
    # A coverage case varies one part and may carry a deliberately invalid other part (e.g. the body).
    return all(info.mode.is_positive for info in meta.components.values())


@schemathesis.check
def schema_valid_input_is_accepted(ctx, response, case) -> bool | None:
    """Schemathesis' "schema validation mismatch", per case: a 400 for input the schema allows means the
    schema is looser than the validation, and a schema-driven client cannot know the rule."""
    if response.status_code != 400 or not _all_positive(case):
        return None
    error = response.json()["error"]
    unexplained = [d for d in error["details"] if not _no_schema_can_state(d)]
    assert error["details"] and not unexplained, (
        f"Schema-valid input refused: {error['message']} {unexplained or error['details']}"
    )
    return None


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    schema_valid_input_is_accepted,
]


@pytest.fixture
def auth(officer, make_request):
    # Called as a plain WSGI app, Django would close the test's connection after each request (the test
    # client switches this off the same way).
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    make_request()
    yield {"Authorization": f"Bearer {officer.raw}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_breaks_the_api(case, auth):
    case.call_and_validate(headers=auth, checks=CHECKS)
