"""What Pendel accepts from outside, defined once: ids, text, times, and the guards every route shares.

Each class of bad input is refused where it enters, as a 4xx naming the field,
before anything reaches the database (which would answer with a 500):

- Ids are PostgreSQL `integer`s: `Id` in every API model, and the app-wide
  `int` URL converter (`install`), so an id of 2^31 or more in a path is a 404
  naming the parameter, on every route (the phone line's included).
- Text never holds NUL (PostgreSQL cannot store it), and single-line text
  holds no line break or other control character: `single_line` and
  `multi_line` build the field types, and every form or query value of every
  route is checked for NUL before a view sees it. Limits are checked on what
  was sent and the value is stripped afterwards, so what is stored is never
  longer than the limit.
- Times are RFC 3339 text with an offset, years 1900–2999 (`Time`, `Day`):
  no Unix numbers, and no year whose arithmetic runs off Python's calendar.

Each type states its constraint in the JSON Schema it generates, so the
OpenAPI document warns a client of every refusal of this kind.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Annotated, Any

from annotated_types import Ge, Le
from flask import Flask, request
from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Rule

from core.problems import Problem

MAX_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every id column


def _whole(value: object) -> object:
    """JSON Schema's "integer" includes 2.0: take it as 2 (a strict model would refuse it); 2.5 stays refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WHOLE = BeforeValidator(_whole)  # last in an Annotated[int, ...], after the bounds (which the document states)
Int = Annotated[int, WHOLE]  # an integer a client sends in a body
Id = Annotated[int, Ge(1), Le(MAX_ID), WHOLE]
ID_KEY = r"^[1-9][0-9]{0,8}$"  # an id as a JSON object's key: decimal, no sign, no leading zero


def _id_key(value: object) -> int:
    if not isinstance(value, str) or not re.match(ID_KEY, value):
        raise PydanticCustomError("id_key", "must be an id written in decimal (1 to 999999999)")
    return int(value)


def by_id(value_type: Any) -> Any:
    """A JSON object keyed by ids ({"7": ...}), the keys stated in the document as well."""
    key = Annotated[int, PlainValidator(_id_key)]
    return Annotated[dict[key, value_type],  # type: ignore[valid-type]
                     Field(json_schema_extra={"propertyNames": {"pattern": ID_KEY}})]


_PATTERN_MESSAGES: dict[str, str] = {}


def described(pattern: str, message: str) -> str:
    """`pattern`, remembered with the words a refusal by it gives instead of the regex (`pattern_message`)."""
    _PATTERN_MESSAGES[pattern] = message
    return pattern


def pattern_message(pattern: str) -> str:
    return _PATTERN_MESSAGES.get(pattern, f"must match {pattern}")


# C0 and C1 controls, DEL and the Unicode line and paragraph separators: none belongs in a single line.
CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"  # for a [...] class in a pattern
SINGLE_LINE = described(rf"^[^{CONTROLS}]*$", "must be one line, without control characters")
VISIBLE_LINE = described(rf"^[^{CONTROLS}]*[^\s{CONTROLS}][^{CONTROLS}]*$",
                         "must be one line of text: not blank, without line breaks or control characters")
NO_NUL = described(r"^[^\x00]*$", "must not contain a NUL character")


def _not_blank(value: str) -> str:
    if not value:
        raise PydanticCustomError("blank", "must not be blank")
    return value


def single_line(max_length: int, *, required: bool = True, strip: bool = True) -> Any:
    """One line of text: no control characters; `required` means something visible, not only spaces.

    Length and characters are checked on what was sent (as the JSON Schema
    says), then surrounding spaces are dropped: the stored value is never
    longer than `max_length`.
    """
    pattern = VISIBLE_LINE if required else SINGLE_LINE
    checks: list[Any] = [StringConstraints(max_length=max_length, min_length=1 if required else None,
                                           pattern=pattern)]
    if strip:
        checks.append(AfterValidator(str.strip))
    if required:
        checks.append(AfterValidator(_not_blank))
    return Annotated[(str, *checks)]


def multi_line(max_length: int | None = None) -> Any:
    """Text that may span lines (an uploaded file): anything but NUL."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=NO_NUL)]


_YEAR = r"(19[0-9]{2}|2[0-9]{3})"
_DAY = rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
RFC3339 = rf"^{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
ISO_DAY = rf"^{_DAY}$"
_RFC3339 = re.compile(RFC3339)
_ISO_DAY = re.compile(ISO_DAY)
TIME_HELP = "RFC 3339 with an offset, years 1900–2999, e.g. 2030-03-04T09:00:00+01:00"


def to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _time(value: object) -> datetime:
    """Only text in RFC 3339's shape: pydantic alone would also take 0.5 (a Unix time) or a year 9999."""
    if isinstance(value, datetime) and value.tzinfo is not None:  # built in code, not sent
        return to_utc(value)
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise PydanticCustomError("rfc3339", "must be " + TIME_HELP)
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        raise PydanticCustomError("rfc3339", "is not a date on the calendar") from None


def _day(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DAY.match(value):
        raise PydanticCustomError("iso_day", "must be a date YYYY-MM-DD, years 1900–2999")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("iso_day", "is not a date on the calendar") from None


# A time a client sends: RFC 3339 text with an offset, handed to the code in UTC.
Time = Annotated[datetime, PlainValidator(_time),
                 WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339,
                                 "description": TIME_HELP})]
# A calendar day a client sends: YYYY-MM-DD.
Day = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DAY})]


class IdOutOfRange(NotFound):
    """A path number no row can have: a 404 like any unknown id, naming the parameter."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: not found (at most {MAX_ID})")
        self.errors = [{"field": field, "message": f"must be at most {MAX_ID}"}]


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only, 0 to MAX_ID (ids start at 1; the phone line's turns at 0)."""

    regex = r"[0-9]+"
    field = "id"

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= 12 else MAX_ID + 1
        if number > MAX_ID:
            raise IdOutOfRange(self.field)
        return number


class NamedParameterRule(Rule):
    """Tells each id converter the name of its parameter, so its 404 can name it."""

    def get_converter(self, variable_name: str, converter_name: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        if isinstance(converter, IdConverter):
            converter.field = variable_name
        return converter


class NulCharacter(Problem):
    status = 400
    title = "Bad request"


def _refuse_nul() -> None:
    """No form or query value (or name) of any route may hold NUL; JSON bodies are checked by their types."""
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for values in sources:
        for name, items in values.lists():
            if "\x00" in name or any("\x00" in item for item in items):
                field = name.replace("\x00", "")
                raise NulCharacter(f"{field}: contains a NUL character",
                                   errors=[{"field": field, "message": "contains a NUL character"}])


def install(app: Flask) -> None:
    """Before any blueprint is registered: the bounded id converter for every route, and the NUL guard."""
    app.url_rule_class = NamedParameterRule
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)
