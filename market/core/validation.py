"""Turning msgspec's validation messages into errors a person can act on, in their language."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from market.core.errors import Invalid, InvalidFields
from market.core.i18n import N_

S = TypeVar("S", bound=msgspec.Struct)


# msgspec's messages, re-said for people in their language.
_MSGSPEC_RULES = [
    (re.compile(r"Object missing required field `(\w+)`"), N_("This field is required."), True),
    (re.compile(r"Expected `str` of length <= (\d+)"), N_("This is too long: at most %(n)s characters."), False),
    (re.compile(r"Expected `str` of length >= (\d+)"), N_("This is too short: at least %(n)s characters."), False),
    (re.compile(r"Expected `array` of length >= (\d+)"), N_("Give at least %(n)s here."), False),
    (re.compile(r"Expected `array` of length <= (\d+)"), N_("Give at most %(n)s here."), False),
    (re.compile(r"Expected `int` >= (-?\d+)"), N_("Enter a number no smaller than %(n)s."), False),
    (re.compile(r"Expected `int` <= (-?\d+)"), N_("Enter a number no larger than %(n)s."), False),
    (re.compile(r"Invalid enum value"), N_("Choose one of the options offered."), False),
    (re.compile(r"Invalid (?:RFC 3339 encoded )?date"), N_("Enter a date as YYYY-MM-DD."), False),
    (re.compile(r"Expected `int`"), N_("Enter a whole number."), False),
    (re.compile(r"Expected `bool`"), N_("Choose yes or no."), False),
    (re.compile(r"Object contains unknown field `(\w+)`"), N_("This field is not accepted here."), True),
    (re.compile(r"Expected `object`"), N_("The request body must be a JSON object."), False),
    (re.compile(r"JSON is malformed|Input data was truncated"), N_("The request body is not valid JSON."), False),
]


def explain_validation(message: str) -> Invalid:
    """A msgspec validation message as an error for a person, naming the field."""
    field_match = re.search(r"at `\$\.(\w+)", message)
    field = field_match.group(1) if field_match else None
    for pattern, text, names_field in _MSGSPEC_RULES:
        m = pattern.search(message)
        if m:
            if names_field:
                return Invalid(text, field=m.group(1))
            if m.groups():
                return Invalid(text, field=field, n=m.group(1))
            return Invalid(text, field=field)
    return Invalid("This value is not valid.", field=field)


@cache
def _one_field(struct: type[msgspec.Struct], name: str) -> type[msgspec.Struct]:
    field = next(f for f in msgspec.structs.fields(struct) if f.name == name)
    return msgspec.defstruct(f"{struct.__name__}_{name}", [(name, field.type)])


def parse(data: Any, struct: type[S]) -> S:
    """A form or JSON object as a Struct. msgspec stops at the first problem; a person filling in a
    form wants to see them all at once, so each field is then checked on its own."""
    try:
        return msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        first = explain_validation(str(exc))
    errors: list[Invalid] = []
    if isinstance(data, dict):
        for field in msgspec.structs.fields(struct):
            if field.encode_name not in data:
                if field.required:
                    errors.append(Invalid("This field is required.", field=field.name))
                continue
            try:
                msgspec.convert({field.name: data[field.encode_name]}, _one_field(struct, field.name), strict=False)
            except msgspec.ValidationError as exc:
                errors.append(explain_validation(str(exc)))
    raise InvalidFields(errors or [first])


def local_times(raw: dict[str, Any], names: tuple[str, ...], tz: str, problems: list[Invalid]) -> dict[str, Any]:
    """Form fields from `datetime-local` inputs as instants in the deployment's time zone; a value that
    is not a date and time becomes a problem beside its field."""
    found: dict[str, Any] = {}
    for name in names:
        if raw.get(name):
            try:
                found[name] = datetime.fromisoformat(str(raw[name])).replace(tzinfo=ZoneInfo(tz))
            except ValueError:
                problems.append(Invalid("Enter a date and time.", field=name))
    return found
