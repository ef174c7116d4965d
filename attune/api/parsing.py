"""Request input to pydantic models, with errors a client can act on:
malformed JSON is a 400 saying where, a wrong field a 422 listing every field,
an oversized body a 413."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from attune.errors import BadRequestError, PayloadTooLargeError, ValidationError

Where = Literal["body", "query", "path"]
MAX_DEPTH = 64


async def read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(
            f"request body is {request.content_length} bytes; the limit is {limit} bytes")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes") from None


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise BadRequestError("request body is empty: send a JSON object "
                              "(Content-Type: application/json)")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson says where: "unexpected character: line 1 column 9 (char 8)"
        raise BadRequestError(f"malformed JSON in request body: {exc}") from None
    check_values(data, "body")
    return data


def check_values(data: Any, where: Where) -> None:
    """Refuse what would fail later, deep inside: U+0000 (PostgreSQL text and jsonb
    cannot hold it; it would poison a projection) and nesting deeper than MAX_DEPTH
    (event serialization stops at 254 levels). Iterative: the input may nest deeply."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        field, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequestError(f"request {where} nests deeper than {MAX_DEPTH} levels "
                                  f"(at {field})")
        if isinstance(value, str):
            if "\0" in value:
                raise ValidationError(
                    f"invalid {where}: {field or 'value'}: the NUL character (\\u0000) is "
                    "not accepted",
                    details=[{"field": field, "in": where, "message": "contains U+0000"}])
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{field}.{key}" if field else str(key)
                stack.append((name, key, depth + 1))
                stack.append((name, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{field}[{i}]", item, depth + 1) for i, item in enumerate(value))


def model_from(model: type[BaseModel], data: Any, where: Where) -> BaseModel:
    if where != "body":
        check_values(data, where)
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise invalid(model, exc.errors(include_url=False), where) from None


def query_dict(query: MultiMapping[str]) -> dict[str, Any]:
    """A repeated query parameter becomes a list, which no scalar field accepts."""
    out: dict[str, Any] = {}
    for key in set(query.keys()):
        values = query.getall(key)
        out[key] = values[0] if len(values) == 1 else values
    return out


def invalid(model: type[BaseModel], errors: list[ErrorDetails], where: Where
            ) -> ValidationError:
    details = [_detail(model, e, where) for e in errors]
    noun = {"body": "request body", "query": "query string", "path": "path"}[where]
    summary = "; ".join(f"{d['field'] or where}: {d['message']}" for d in details)
    return ValidationError(f"invalid {noun}: {summary}", details=details)


def _detail(model: type[BaseModel], error: ErrorDetails, where: Where) -> dict[str, str]:
    field = ".".join(str(part) for part in error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        known = ", ".join(sorted(f.validation_alias if isinstance(f.validation_alias, str)
                                 else name for name, f in model.model_fields.items()))
        message = f"unknown field (known: {known or 'none'})"
    elif error["type"] == "missing":
        message = "is required"
    return {"field": field, "in": where, "message": message}
