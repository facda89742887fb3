"""The OpenAPI document says what every operation may answer besides success: the problem details
(`application/problem+json`) that market.core.web.exception_handler gives for each domain error, the
refusals of the access guard and CSRF, and 503 while the database is away."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from market.core.access import Access

PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "Problem details (RFC 9457), in the language of the request",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "what is wrong with each field, by field name"},
    },
    "additionalProperties": True,
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "string"}}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if headers:
        response["headers"] = headers
    return response


def _refusals(method: str, access: Access | None, path: str) -> dict[str, dict[str, Any]]:
    out = {
        "400": _problem("Something sent is not valid; `errors` names each field"),
        "404": _problem("No such record, or another organisation's private one"),
        "403": _problem("Not allowed for who is asking, or (unsafe methods) the CSRF token is missing"),
        "409": _problem("Not possible in the record's present state"),
        "410": _problem("The link has expired or was already used"),
        "413": _problem("What was sent is too large"),
        "503": _problem("The database or a payment service cannot be reached just now", RETRY_AFTER),
    }
    if access is None or access.signed_in:
        out["401"] = _problem("Not logged in")
    if path == "/api/session" and method == "post":
        out["429"] = _problem("Too many failed log-ins from this address", RETRY_AFTER)
    return out


def _any_of(node: Any) -> None:
    """`oneOf` where one answer is a richer view of another (an organisation, and the same with its
    private fields for its members) would refuse the richer one, which matches both: `anyOf`."""
    if isinstance(node, dict):
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _any_of(value)
    elif isinstance(node, list):
        for value in node:
            _any_of(value)


def describe_errors(schema: dict[str, Any], app: Litestar) -> None:
    access: dict[tuple[str, str], Access | None] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                access[route.path_format, method.lower()] = handler.opt.get("access")
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].update(_refusals(method, access.get((path, method)), path))
    _any_of(schema["paths"])


class DescribedJson(JsonRenderPlugin):
    """The JSON document, completed once with the error answers before it is first served."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if "Problem" not in openapi_schema.get("components", {}).get("schemas", {}):
            describe_errors(openapi_schema, request.app)
        return super().render(request, openapi_schema)
