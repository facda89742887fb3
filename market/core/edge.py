"""Checks at the edge, for every route before its handler runs: numbers that no column can hold and
text that no person means. Without them such input reaches PostgreSQL and fails there, as a server
error instead of a refusal."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from market.core.errors import Invalid, InvalidFields, NotFound

BIGINT = (-(2**63), 2**63 - 1)
INTEGER = (-(2**31), 2**31 - 1)
# Path and query parameters stored in `integer` columns (batch numbers, milestone positions,
# jurisdictions); every other whole number is a `bigint` id or amount.
INTEGER_PARAMETERS = frozenset({"number", "position", "place", "community_id", "jurisdiction_id"})
_FORM = "application/x-www-form-urlencoded"


def bounds(name: str) -> tuple[int, int]:
    return INTEGER if name in INTEGER_PARAMETERS else BIGINT


def text_problem(name: str, text: str) -> Invalid | None:
    """NUL cannot be stored in PostgreSQL text; text of only spaces and invisible characters (zero-width
    spaces, joiners, direction marks) looks empty to every reader, so it counts as nothing entered.
    Plain spaces are left to each form, which treats them as an empty field."""
    if "\x00" in text:
        return Invalid("This contains a character that is not allowed (NUL).", field=name)
    if text and not text.isspace() and all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc") for c in text):
        return Invalid("Enter visible text, not only spaces or invisible characters.", field=name)
    return None


def _strings(value: Any, name: str) -> list[tuple[str, str]]:
    """Every string in a decoded JSON body, with the field it belongs to (keys count too)."""
    if isinstance(value, str):
        return [(name, value)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item, name)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [(str(k), str(k)), *_strings(v, str(k))]]
    return []


def _declared_int(handler: BaseRouteHandler, name: str) -> bool:
    field = handler.parsed_fn_signature.parameters.get(name)
    return field is not None and (field.is_subclass_of(int) or any(t.is_subclass_of(int) for t in field.inner_types))


async def edge_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Refuse, before the handler: a whole number in the path or query outside its column's range (an
    id that cannot exist is not found; a query value is invalid), and NUL or invisible-only text in
    the path, the query, or a JSON or form body."""
    problems: list[Invalid] = []
    if "\x00" in connection.scope["path"]:
        raise NotFound()
    for name, value in connection.path_params.items():
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = bounds(name)
            if not low <= value <= high:
                raise NotFound()
        elif isinstance(value, str) and "\x00" in value:
            raise NotFound()
    for name, value in connection.query_params.items():
        problem = text_problem(name, value)
        if problem is None and _declared_int(handler, name):
            try:
                number = int(value)
            except ValueError:
                continue  # not a number: the handler's own validation says so
            low, high = bounds(name)
            if not low <= number <= high:
                problem = Invalid("Enter a number between %(low)s and %(high)s.", field=name, low=low, high=high)
        if problem is not None:
            problems.append(problem)
    # The handler's own request object, which keeps the body it read: a second one would wait for a
    # body the client already sent.
    if isinstance(connection, Request) and connection.method in ("POST", "PUT", "PATCH", "DELETE"):
        problems += await _body_problems(connection)
    if problems:
        raise InvalidFields(problems)


async def _body_problems(request: Request[Any, Any, Any]) -> list[Invalid]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            strings = _strings(msgspec.json.decode(await request.body()), "")
        except msgspec.DecodeError:
            return []  # malformed JSON is the handler's to refuse, in its words
    elif content_type == _FORM:
        strings = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    elif content_type == "multipart/form-data":
        # A file's content may be any bytes; its name and the other fields are text.
        strings = [(name, value if isinstance(value, str) else value.filename or "")
                   for name, value in (await request.form()).multi_items()]
    else:
        return []
    return [p for name, text in strings if (p := text_problem(name, text)) is not None]
