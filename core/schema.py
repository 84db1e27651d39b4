"""drf-spectacular postprocessing: describe the contract's envelopes and error answers on every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERRORS = {
    "400": "Malformed JSON or a validation error (details name the field path).",
    "401": "No key, unknown key or revoked key.",
    "403": "The key lacks the scope.",
    "404": "No such object in this organisation.",
    "405": "Method not allowed.",
    "409": "Invalid transition, or a concurrent change / reused Idempotency-Key.",
    "413": "Body over the size limit.",
    "415": "Body is not application/json.",
    "429": "Over the key's rate; see Retry-After.",
}


def envelope_postprocessing_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorEnvelope"] = {
        "type": "object",
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
            "contractVersion": {"type": "string"},
        },
    }
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, response in list(responses.items()):
                if not str(code).startswith("2"):
                    continue
                content = response.setdefault("content", {}).setdefault("application/json", {})
                inner = content.get("schema", {"type": "object", "additionalProperties": {}})
                content["schema"] = {
                    "type": "object",
                    "required": ["ok", "data", "contractVersion"],
                    "properties": {
                        "ok": {"type": "boolean", "enum": [True]},
                        "data": inner,
                        "contractVersion": {"type": "string"},
                    },
                }
            for code, description in ERRORS.items():
                if code in ("401", "403") and path.endswith("openapi.json"):
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": error_ref}}}
                )
    return result


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer dsar_<prefix>_<secret>`.",
        }
