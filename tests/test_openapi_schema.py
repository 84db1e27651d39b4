"""The OpenAPI schema documents every operation as the API behaves: what it is for, who may call it,
exactly the errors it can answer, and bodies as strict as their validation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st

from core.serializers import TIMESTAMP_PATTERN, AwareDateTimeField

SCOPES = {"intake", "officer", "integration", "export"}
ERROR_CODES = {
    "400": {"validation_error", "malformed_json", "tls_required"},
    "401": {"unauthenticated"},
    "403": {"forbidden"},
    "404": {"not_found"},
    "409": {"invalid_transition", "conflict"},
    "413": {"payload_too_large"},
    "415": {"unsupported_media_type"},
    "429": {"rate_limited"},
}
LIFECYCLE = re.compile(
    r"/v1/requests/\{request_id\}/(acknowledgements|clarifications/.+|extensions|refusals|closures|requestor"
    r"|verification/(?!challenges).+|authority/.+)$"
)


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def keyless(operation: dict) -> bool:
    """An operation called without a key (the data subject's own, with the token of a link)."""
    return operation["security"] == [{}]


def operations(openapi: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
    ]


def component(openapi: dict, ref_holder: dict) -> dict:
    ref = ref_holder["$ref"] if "$ref" in ref_holder else ref_holder["allOf"][0]["$ref"]
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]]


def body(openapi: dict, path: str, method: str = "post") -> dict:
    request_body = openapi["paths"][path][method]["requestBody"]
    return component(openapi, request_body["content"]["application/json"]["schema"])


def test_every_operation_has_a_summary_and_a_description_of_its_own(openapi):
    ops = operations(openapi)
    assert len(ops) >= 26

    for method, path, operation in ops:
        assert operation.get("summary"), f"{method} {path}"
        assert len(operation["description"]) > 80, f"{method} {path}"
        assert "Validate a body, run one service" not in operation["description"]
    descriptions = [operation["description"] for _, _, operation in ops]
    summaries = [operation["summary"] for _, _, operation in ops]
    assert len(set(descriptions)) == len(descriptions)
    assert len(set(summaries)) == len(summaries)


def test_every_operation_names_the_scope_it_requires(openapi):
    for method, path, operation in operations(openapi):
        if keyless(operation):
            assert "x-required-scopes" not in operation and "**Scope:**" not in operation["description"]
            assert path.startswith("/v1/subject/"), f"{method} {path}: only the subject's calls take no key"
            continue
        scopes = operation["x-required-scopes"]
        assert scopes and set(scopes) <= SCOPES, f"{method} {path}"
        assert "**Scope:**" in operation["description"]
        assert all(f"`{scope}`" in operation["description"] for scope in scopes)
        assert operation["security"] == [{"ApiKey": []}]


@pytest.mark.parametrize(
    ("method", "path", "scopes"),
    [
        ("POST", "/v1/requests", ["intake"]),
        ("GET", "/v1/requests", ["intake", "integration"]),
        ("POST", "/v1/requests/{request_id}/acknowledgements", ["officer"]),
        ("PUT", "/v1/requests/{request_id}/requestor", ["officer"]),
        ("POST", "/v1/requests/{request_id}/authority/submit", ["intake"]),
        ("POST", "/v1/requests/{request_id}/notifications/{event_id}/replay", ["integration"]),
        ("DELETE", "/v1/webhook-endpoints/{endpoint_id}", ["integration"]),
        ("GET", "/v1/policy-packs", ["intake", "integration", "export"]),
    ],
)
def test_the_scope_is_the_one_the_view_enforces(openapi, method, path, scopes):
    assert openapi["paths"][path][method.lower()]["x-required-scopes"] == scopes


def test_every_operation_lists_only_the_errors_it_can_answer(openapi):
    for method, path, operation in operations(openapi):
        codes = {code for code in operation["responses"] if not code.startswith("2")}
        expected = {"400", "401", "429"} if keyless(operation) else {"400", "401", "403", "429"}
        if "{" in path:
            expected.add("404")
        if method in ("POST", "PUT", "PATCH"):
            expected |= {"409", "413", "415"}
            # A keyless call has no Idempotency-Key; only its own state can refuse it (not subject/verify).
            if keyless(operation) and "409" not in operation["responses"]:
                expected.discard("409")
        if method == "DELETE" or path.endswith("/download"):  # no bundle yet: 409 invalid_transition
            expected.add("409")
        assert codes == expected, f"{method} {path}"

        for code in codes:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorEnvelope"}
            error_codes = set(schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"])
            assert error_codes <= ERROR_CODES[code], f"{method} {path} {code}"
        if "409" in codes:
            conflicts = set(
                operation["responses"]["409"]["content"]["application/json"]["schema"]["allOf"][1][
                    "properties"
                ]["error"]["properties"]["code"]["enum"]
            )
            if LIFECYCLE.search(path):
                assert "invalid_transition" in conflicts, path
            if path in ("/v1/requests", "/v1/requests/capture", "/v1/webhook-endpoints"):
                assert conflicts == {"conflict"}, path
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True


def test_answers_are_in_the_envelope_except_the_dsr_feed_and_the_bundle(openapi):
    for method, path, operation in operations(openapi):
        success = [code for code in operation["responses"] if code.startswith("2")]
        # Running an export answers 200 when it finished inline, 202 when the background finishes it; the
        # subject's download 200 with the bundle, or 202 when it e-mailed the step-up code.
        two = (path.endswith("/run") and "compliance" in path) or path.startswith("/v1/subject/deliveries/")
        assert len(success) == (2 if two else 1), path
        content = operation["responses"][success[0]]["content"]
        if path.endswith("/download"):
            assert set(content) == {"application/zip"}
            continue
        schema = content["application/json"]["schema"]
        if path == "/v1/dsr":
            assert schema == {"$ref": "#/components/schemas/DsrListSchema"}
        else:
            assert schema["required"] == ["ok", "data", "contractVersion"], f"{method} {path}"


def test_every_post_and_put_documents_the_idempotency_key(openapi):
    for method, path, operation in operations(openapi):
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        # The subject's keyless calls have no organisation to keep a key under.
        idempotent = method in ("POST", "PUT") and not keyless(operation)
        assert headers == (["Idempotency-Key"] if idempotent else []), f"{method} {path}"


def test_the_list_query_is_the_one_the_view_validates(openapi):
    parameters = {
        p["name"]: p for p in openapi["paths"]["/v1/requests"]["get"]["parameters"] if p["in"] == "query"
    }

    assert set(parameters) == {
        "limit",
        "offset",
        "status",
        "jurisdiction",
        "sortBy",
        "sortOrder",
        "atRiskDays",
        "ackOverdue",
        "q",
        "email",
    }
    assert parameters["q"]["schema"]["maxLength"] == 200
    assert parameters["email"]["schema"]["format"] == "email"
    assert parameters["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
        "default": 50,
    }
    assert parameters["atRiskDays"]["schema"]["minimum"] == 0
    assert set(parameters["sortOrder"]["schema"]["enum"]) == {"asc", "desc"}
    dsr = {p["name"]: p for p in openapi["paths"]["/v1/dsr"]["get"]["parameters"]}
    assert set(dsr) == {"cursor", "limit"}
    assert dsr["cursor"]["schema"]["pattern"] == "^[A-Za-z0-9_-]+$"


def test_the_intake_body_carries_its_bounds(openapi):
    for path in ("/v1/requests", "/v1/requests/capture"):
        intake = body(openapi, path)
        assert openapi["paths"][path]["post"]["requestBody"]["required"] is True
        assert intake["additionalProperties"] is False
        assert set(intake["required"]) == {"jurisdiction", "intakeSource"}
        props = intake["properties"]
        assert {"GB", "GB-SCT", "EU", "DE", "US-CA", "CA-QC"} <= set(
            component(openapi, props["jurisdiction"])["enum"]
        )
        assert props["requestTypes"]["maxItems"] == 8
        assert props["receivedAt"]["pattern"] == TIMESTAMP_PATTERN

    source = component(openapi, body(openapi, "/v1/requests")["properties"]["intakeSource"])
    assert source["additionalProperties"] is False
    assert set(source["required"]) == {"channel", "rawText", "receivedAt"}
    assert source["properties"]["rawText"].items() >= {"minLength": 1, "maxLength": 200_000}.items()
    received = source["properties"]["receivedAt"]
    assert received["format"] == "date-time" and received["pattern"] == TIMESTAMP_PATTERN
    assert (
        "1900-01-01T00:00:00Z" in received["description"]
        and "2200-01-01T00:00:00Z" in received["description"]
    )
    assert source["properties"]["sourceEvidence"]["maxItems"] == 50
    assert source["properties"]["contact"]["maxLength"] == 320
    assert set(component(openapi, source["properties"]["channel"])["enum"]) == {
        "EMAIL", "WEB_FORM", "PHONE", "MAIL", "IN_PERSON", "API", "OTHER"
    }  # fmt: skip

    requestor = component(openapi, body(openapi, "/v1/requests")["properties"]["requestor"])
    assert requestor["required"] == ["type"] and requestor["additionalProperties"] is False
    assert requestor["properties"]["email"]["oneOf"][0]["format"] == "email"


def test_evidence_artifacts_need_a_kind_and_nothing_else(openapi):
    authority = component(openapi, body(openapi, "/v1/requests")["properties"]["authority"])
    artifacts = authority["properties"]["evidenceArtifacts"]
    assert (artifacts["minItems"], artifacts["maxItems"]) == (1, 50)
    artifact = component(openapi, artifacts["items"])
    assert artifact["required"] == ["kind"]
    assert set(artifact["properties"]) == {"kind", "uri", "description", "receivedAt"}
    assert artifact["additionalProperties"] is False
    assert artifact["properties"]["receivedAt"]["pattern"] == TIMESTAMP_PATTERN

    submit = body(openapi, "/v1/requests/{request_id}/authority/submit")
    assert set(submit["required"]) == {"evidenceArtifacts", "status"}
    assert component(openapi, submit["properties"]["evidenceArtifacts"]["items"]) == artifact
    shown = openapi["components"]["schemas"]["ArtifactOut"]
    assert shown["required"] == ["kind"] and set(shown["properties"]) == set(artifact["properties"])


def test_every_lifecycle_body_is_closed_and_takes_a_bounded_occurred_at(openapi):
    lifecycle = [(m, p) for m, p, _ in operations(openapi) if LIFECYCLE.search(p)]
    assert len(lifecycle) >= 13
    for method, path in lifecycle:
        schema = body(openapi, path, method.lower())
        assert schema["additionalProperties"] is False, path
        occurred = schema["properties"]["occurredAt"]
        assert occurred["format"] == "date-time" and occurred["pattern"] == TIMESTAMP_PATTERN, path
        assert occurred["nullable"] is True


def test_lifecycle_bodies_say_what_they_require(openapi):
    extension = body(openapi, "/v1/requests/{request_id}/extensions")
    assert extension["required"] == ["reason"]
    extend_by = component(openapi, extension["properties"]["extendBy"])
    assert extend_by["properties"]["amount"].items() >= {"minimum": 1, "maximum": 366}.items()
    assert set(component(openapi, extend_by["properties"]["unit"])["enum"]) == {"DAYS", "MONTHS"}

    assert body(openapi, "/v1/requests/{request_id}/clarifications/request")["required"] == ["message"]
    assert body(openapi, "/v1/requests/{request_id}/requestor", "put")["required"] == ["type"]

    refusal_path = "/v1/requests/{request_id}/refusals"
    refusal = body(openapi, refusal_path)
    assert openapi["paths"][refusal_path]["post"]["requestBody"]["required"] is True
    assert [branch["required"] for branch in refusal["anyOf"]] == [["reason"], ["message"], ["rationale"]]


def test_blank_and_nul_text_is_ruled_out_where_the_api_refuses_it(openapi):
    pattern = body(openapi, "/v1/requests/{request_id}/extensions")["properties"]["reason"]["pattern"]

    assert re.fullmatch(pattern, "Complex request")
    assert not re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, " \t\u3000\x1c")  # all of it is what str.strip() removes
    assert not re.fullmatch(pattern, "a\x00b")


def _real_day(value: str) -> bool:
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


@given(st.from_regex(TIMESTAMP_PATTERN, fullmatch=True).filter(_real_day))
def test_every_timestamp_the_schema_admits_the_api_accepts(value):
    AwareDateTimeField().run_validation(value)


@pytest.mark.django_db
def test_the_schema_examples_are_accepted(openapi, officer, make_request):
    shown = 0
    for path, method in [("/v1/requests", "post"), ("/v1/requests/{request_id}/extensions", "post")]:
        examples = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]
        for example in examples.values():
            recent = (timezone.now() - timedelta(days=2)).isoformat()  # still in time for an extension
            url = path.replace("{request_id}", make_request(receivedAt=recent)["id"])
            response = officer.post(url, example["value"])
            assert response.status_code == 202, (path, response.content)
            shown += 1
    assert shown == 3


def test_links_say_where_each_path_id_comes_from(openapi):
    created = openapi["paths"]["/v1/requests"]["post"]["responses"]["202"]["links"]
    operation_ids = {
        operation["operationId"]
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/requests/{request_id}") and path.count("{") == 1
        for operation in item.values()
    }

    assert set(created) == operation_ids
    assert created["requests_acknowledgements_create"]["parameters"] == {
        "request_id": "$response.body#/data/request/id"
    }
    challenged = openapi["paths"]["/v1/requests/{request_id}/verification/challenges"]["post"]["responses"]
    resend = challenged["202"]["links"]["requests_verification_challenges_resend"]
    assert resend["parameters"] == {
        "request_id": "$request.path.request_id",
        "challenge_id": "$response.body#/data/challenge/id",
    }
    endpoint = openapi["paths"]["/v1/webhook-endpoints"]["post"]["responses"]["201"]["links"]
    assert endpoint["webhook_endpoints_delete"]["parameters"] == {
        "endpoint_id": "$response.body#/data/endpoint/id"
    }
