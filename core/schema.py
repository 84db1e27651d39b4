"""The OpenAPI schema, as strict as the API: what each operation accepts, who may call it, what it answers.

`ApiAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) derives per operation, from the views and
serializers themselves rather than from per-view decorators:

- the summary, description and tag (core.operation_docs, keyed by operationId);
- the scope a key needs (`x-required-scopes` and a sentence), from `required_scopes` / `scopes_by_method`,
  the attributes `core.auth.HasScope` enforces;
- request bodies exactly as the serializers validate: unknown fields refused (`additionalProperties:
  false`), strings free of NUL and, where blank is refused, carrying a non-space character, list bounds,
  "at least one of" rules;
- the query parameters from the view's `query_serializer` (anything else is a 400), and the
  `Idempotency-Key` header on every POST and PUT;
- the success envelope around 2xx answers, and only the error answers the operation can give, each in
  the error envelope with its possible `error.code` values.
"""

from __future__ import annotations

from typing import Any

import uritemplate
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    ResolvedComponent,
    build_parameter_type,
    force_instance,
    is_serializer,
)
from drf_spectacular.utils import Direction, OpenApiParameter
from rest_framework import serializers

from .api import CONTRACT_VERSION
from .auth import HasScope
from .idempotency import MAX_KEY_LENGTH
from .operation_docs import OPERATIONS, OperationDoc
from .serializers import StrictSerializer

# What DRF's CharField refuses, as ECMA-262 patterns: a NUL anywhere, and (when it trims and blank is
# refused) a value made only of what str.strip() removes. The class is exactly Python's str.isspace().
_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"

ERROR_ENVELOPE = "ErrorEnvelope"
WRITE_METHODS = ("POST", "PUT", "PATCH")  # the methods that take a body
IDEMPOTENT_METHODS = ("POST", "PUT")  # the contract's `Idempotency-Key` methods
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("validation_error", "malformed_json", "tls_required"),
    401: ("unauthenticated",),
    403: ("forbidden",),
    404: ("not_found",),
    409: ("invalid_transition", "conflict"),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    429: ("rate_limited",),
}


class ApiAutoSchema(AutoSchema):
    # --- what the operation is -------------------------------------------------------------------------

    def operation_doc(self) -> OperationDoc | None:
        operation_id = self.get_operation_id()
        doc = OPERATIONS.get(operation_id)
        if doc is None:
            warn(f'operation "{operation_id}" has no summary or description in core.operation_docs')
        return doc

    def get_summary(self) -> str | None:
        doc = self.operation_doc()
        return doc.summary if doc else None

    def get_description(self) -> str:  # type: ignore[override]
        doc = self.operation_doc()
        text = doc.description if doc else super().get_description()
        scopes = self.required_scopes()
        if self.needs_key() and scopes:
            text += f"\n\n**Scope:** {scope_sentence(scopes)}"
        return text

    def get_tags(self) -> list[str]:
        doc = self.operation_doc()
        return [doc.tag] if doc else super().get_tags()

    def get_extensions(self) -> dict[str, Any]:
        extensions = dict(super().get_extensions())
        if self.needs_key():
            extensions["x-required-scopes"] = list(self.required_scopes())
        return extensions

    def needs_key(self) -> bool:
        return any(isinstance(permission, HasScope) for permission in self.view.get_permissions())

    def required_scopes(self) -> tuple[str, ...]:
        """The scopes `HasScope` accepts for this method (any one suffices)."""
        by_method = getattr(self.view, "scopes_by_method", None)
        if by_method:
            return tuple(by_method.get(self.method, ()))
        return tuple(getattr(self.view, "required_scopes", None) or ())

    # --- what it accepts -------------------------------------------------------------------------------

    def query_serializer(self) -> serializers.Serializer | None:
        serializer = getattr(self.view, "query_serializer", None)
        if serializer is None or self.method not in ("GET", "HEAD"):
            return None
        return force_instance(serializer)

    def _process_override_parameters(self, direction: Direction = "request") -> dict[tuple[str, str], Any]:
        parameters = super()._process_override_parameters(direction)
        query = self.query_serializer()
        if query is not None:
            # The view validates its query string with this serializer and refuses anything else, so it,
            # not a hand-written parameter list, is what the schema shows.
            for key in [key for key in parameters if key[1] == OpenApiParameter.QUERY]:
                del parameters[key]
            mapped = self._map_serializer(query, "request")
            for name, schema in mapped["properties"].items():
                parameters[name, OpenApiParameter.QUERY] = build_parameter_type(
                    name=name,
                    schema=schema,
                    description=schema.pop("description", None),
                    location=OpenApiParameter.QUERY,
                    required=name in mapped.get("required", []),
                )
        if self.method in IDEMPOTENT_METHODS:
            parameters["Idempotency-Key", OpenApiParameter.HEADER] = build_parameter_type(
                name="Idempotency-Key",
                location=OpenApiParameter.HEADER,
                schema={
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": r"^[ -~]*[!-~][ -~]*$",
                },
                description=(
                    "Retry safely: the same key with the same body returns the first answer and changes "
                    "nothing; the same key with another body is a 409 `conflict`. Printable characters."
                ),
            )
        return parameters

    def _map_basic_serializer(self, serializer: Any, direction: Direction) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return schema
        serializer = force_instance(serializer)
        if not type(serializer).__dict__.get("__doc__"):
            # A docstring inherited from a base class (StrictSerializer's) says nothing about this body.
            schema.pop("description", None)
        properties = schema.get("properties", {})
        for field in serializer.fields.values():
            if field.field_name in properties:
                tighten(field, properties[field.field_name])
        if isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
            if serializer.at_least_one_of:
                schema["anyOf"] = [
                    {"required": [name], "properties": {name: {"type": "string", "pattern": NOT_BLANK}}}
                    for name in serializer.at_least_one_of
                ]
        return schema

    def _get_request_for_media_type(
        self, serializer: Any, direction: Direction = "request"
    ) -> tuple[Any, bool]:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if not required and is_serializer(serializer):
            component = self.resolve_serializer(serializer, direction)
            # "At least one of" fields: an absent body ({}) cannot satisfy it.
            required = bool(component and component.schema.get("anyOf"))
        return schema, required

    # --- what it answers -------------------------------------------------------------------------------

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        doc = self.operation_doc()
        if not (doc and doc.bare):
            for code, response in responses.items():
                if str(code).startswith("2"):
                    _wrap_in_envelope(response)
        self._register_error_envelope()
        for status, (codes, description) in self.error_answers().items():
            responses.setdefault(str(status), self._error_response(status, codes, description))
        return responses

    def error_answers(self) -> dict[int, tuple[tuple[str, ...], str]]:
        """Each error status this operation can answer: its `error.code` values and when."""
        doc = self.operation_doc()
        has_body = self.method in WRITE_METHODS
        has_path_id = bool(uritemplate.variables(self.path))
        answers: dict[int, tuple[tuple[str, ...], str]] = {}

        invalid = "a field is missing, of the wrong type, out of range or unknown"
        if has_body:
            why = (
                f"`validation_error`: {invalid} (`details[].field` is its dotted path), or the query "
                "string is not empty; `malformed_json`: the body is not a JSON object"
            )
        elif self.query_serializer() is not None:
            why = (
                "`validation_error`: a query parameter is out of range or unknown (`details[].field` "
                "names it)"
            )
        else:
            why = (
                "`validation_error`: a query parameter was given (this operation takes none; the answer "
                "names it)"
            )
        answers[400] = (
            ERROR_CODES[400],
            f"{why}. `tls_required`: the call came over plain http to an installation behind TLS.",
        )

        if self.needs_key():
            scopes = self.required_scopes()
            answers[401] = (ERROR_CODES[401], "`unauthenticated`: no key, an unknown key or a revoked key.")
            forbidden = scope_sentence(scopes, refusal=True)
            if doc and doc.forbidden_note:
                forbidden = f"{forbidden[:-1]}, {doc.forbidden_note}."
            answers[403] = (ERROR_CODES[403], f"`forbidden`: {forbidden}")
        if has_path_id:
            answers[404] = (
                ERROR_CODES[404],
                "`not_found`: no such object in this organisation (another organisation's ids answer "
                "the same).",
            )
        if doc and doc.conflicts and not (has_body or self.method == "DELETE"):
            # A read that can be refused for the object's state (an export bundle not ready yet).
            answers[409] = (doc.conflicts, _sentence([doc.conflict_note]))
        if has_body or self.method == "DELETE":
            codes: tuple[str, ...] = ("conflict",)
            notes = []
            if doc and doc.conflict_note:
                notes.append(doc.conflict_note)
                codes = (*doc.conflicts, "conflict")
            if self.method in IDEMPOTENT_METHODS:
                notes.append("the `Idempotency-Key` was already used with another body (`conflict`)")
            notes.append("a concurrent change won (`conflict`; retry)")
            answers[409] = (codes, _sentence(notes))
        if has_body:
            answers[413] = (ERROR_CODES[413], "`payload_too_large`: the body is over the size limit.")
            answers[415] = (ERROR_CODES[415], "`unsupported_media_type`: the body is not application/json.")
        if self.needs_key():
            answers[429] = (ERROR_CODES[429], "`rate_limited`: over the key's rate; see `Retry-After`.")
        return answers

    def _register_error_envelope(self) -> None:
        component = ResolvedComponent(
            name=ERROR_ENVELOPE,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_ENVELOPE,
            schema=_error_envelope_schema(),
        )
        self.registry.register_on_missing(component)

    def _error_response(self, status: int, codes: tuple[str, ...], description: str) -> dict[str, Any]:
        response: dict[str, Any] = {
            "description": description,
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            {"$ref": f"#/components/schemas/{ERROR_ENVELOPE}"},
                            {
                                "type": "object",
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "properties": {"code": {"type": "string", "enum": list(codes)}},
                                    }
                                },
                            },
                        ]
                    }
                }
            },
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before the next call.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"description": 'Bearer realm="dsar"', "schema": {"type": "string"}},
            }
        return response


def tighten(field: serializers.Field, schema: dict[str, Any]) -> None:
    """Add to a request field's schema what DRF validates but drf-spectacular does not say."""
    if isinstance(field, serializers.ListSerializer):
        if not field.allow_empty:
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        # DRF takes these (many=True passes them on); its type stubs do not list them as attributes.
        min_length, max_length = getattr(field, "min_length", None), getattr(field, "max_length", None)
        if min_length is not None:
            schema["minItems"] = max(schema.get("minItems", 0), min_length)
        if max_length is not None:
            schema["maxItems"] = max_length
        return
    if isinstance(field, serializers.ListField):
        if not field.allow_empty:
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        if isinstance(schema.get("items"), dict):
            tighten(field.child, schema["items"])
        return
    if not isinstance(field, serializers.CharField):
        return
    if {"enum", "format", "pattern", "oneOf", "$ref", "allOf"} & set(schema):
        return  # already as narrow as the value can be (a choice, an e-mail, a validator's regex)
    if field.trim_whitespace and not field.allow_blank:
        schema["pattern"] = NOT_BLANK
    else:
        schema["pattern"] = NO_NUL


# (path, method, status) whose answer supplies another operation's path ids: {target: {parameter: source}}.
_ID_LINKS: dict[tuple[str, str, str], dict[str, dict[str, str]]] = {
    ("/v1/webhook-endpoints", "post", "201"): {
        "webhook_endpoints_delete": {"endpoint_id": "$response.body#/data/endpoint/id"},
    },
    ("/v1/requests/{request_id}/verification/challenges", "post", "202"): {
        "requests_verification_challenges_resend": {
            "request_id": "$request.path.request_id",
            "challenge_id": "$response.body#/data/challenge/id",
        },
    },
    ("/v1/requests/{request_id}/notifications", "get", "200"): {
        "requests_notifications_replay": {
            "request_id": "$request.path.request_id",
            "event_id": "$response.body#/data/events/0/id",
        },
    },
}


def id_links_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """OpenAPI links from the answers that create or list objects to the operations on them, so a client
    (and schemathesis' stateful phase) knows where each path id comes from. A new request's id links to
    every operation on `/v1/requests/{request_id}/...`."""
    paths = result.get("paths", {})
    targets = {}
    for path, item in paths.items():
        if list(uritemplate.variables(path)) != ["request_id"]:
            continue
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                targets[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {"request_id": "$response.body#/data/request/id"},
                }
    for path in ("/v1/requests", "/v1/requests/capture"):
        created = paths.get(path, {}).get("post", {}).get("responses", {}).get("202")
        if created is not None and targets:
            created["links"] = dict(sorted(targets.items()))
    for (path, method, status), links in _ID_LINKS.items():
        answer = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if answer is not None:
            answer["links"] = {
                target: {"operationId": target, "parameters": parameters}
                for target, parameters in links.items()
            }
    return result


def scope_sentence(scopes: tuple[str, ...], *, refusal: bool = False) -> str:
    named = " or ".join(f"`{scope}`" for scope in scopes)
    if refusal:
        return f"the key lacks the scope (it needs {named})."
    if len(scopes) == 1:
        return f"requires an API key with the {named} scope."
    return f"requires an API key with one of the scopes {named}."


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return f"{text[:1].upper()}{text[1:]}."


def _wrap_in_envelope(response: dict[str, Any]) -> None:
    content = response.setdefault("content", {}).setdefault("application/json", {})
    inner = content.get("schema", {"type": "object", "additionalProperties": {}})
    content["schema"] = {
        "type": "object",
        "required": ["ok", "data", "contractVersion"],
        "properties": {
            "ok": {"type": "boolean", "enum": [True]},
            "data": inner,
            "contractVersion": {"type": "string", "enum": [CONTRACT_VERSION]},
        },
    }


def _error_envelope_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every error answer. `details[].field` is a dotted path into the request body.",
        "required": ["ok", "error", "contractVersion"],
        "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                },
            },
            "contractVersion": {"type": "string", "enum": [CONTRACT_VERSION]},
        },
    }


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer dsar_<prefix>_<secret>`.",
        }
