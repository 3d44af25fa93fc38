"""OpenAPI post-processing (drf-spectacular ``POSTPROCESSING_HOOKS``): every operation documents
the errors the platform can answer with, in the one error shape ``{code, message, errors?}``,
so clients — and the schema fuzzing in CI — know every status they may receive."""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["code", "message"],
}

ALWAYS = {
    "400": "Invalid input (the message and `errors` say what to change)",
    "401": "Not signed in, or the token was revoked",
    "403": "Signed in, but this role may not do this",
    "404": "Not found, or not visible to the caller",
    "503": "Database briefly unavailable; retry after `Retry-After` seconds",
}
WRITES = {
    "409": "The case or task moved meanwhile (another caseworker, a wrong state)",
    "413": "The request body is larger than allowed",
}
WITH_BODY = {"415": "The body's content type is not one this operation reads"}
TOKEN = {"429": "Too many failed sign-ins; retry after `Retry-After` seconds"}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = dict(ALWAYS)
            if method != "get":
                codes.update(WRITES)
            if "requestBody" in operation:
                codes.update(WITH_BODY)
            if path.endswith("/auth/token/"):
                codes.update(TOKEN)
            responses = operation.setdefault("responses", {})
            for code, text in codes.items():
                responses.setdefault(code, {"description": text, "content": ref})
    return result
