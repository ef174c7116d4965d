"""The OpenAPI 3.1 document, generated from the route table and the pydantic models
(so it cannot drift from what the server does)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

import attune
from attune.api.models import ErrorBody, Pagination
from attune.api.routing import AUTHENTICATED, Route

REF = "#/components/schemas/{model}"
AFTER_SEQUENCE = {
    "name": "X-Attune-After-Sequence", "in": "header", "required": False,
    "description": "wait (at most 5 s) until the read model has applied this stream "
                   "sequence (the X-Attune-Sequence of an earlier command); 503 if it does not",
    "schema": {"type": "integer", "minimum": 0},
}
SEQUENCE_HEADER = {"X-Attune-Sequence": {
    "description": "stream sequence this command appended; send it back as "
                   "X-Attune-After-Sequence to read your write",
    "schema": {"type": "integer"}}}
ERRORS = {
    400: "Malformed request (e.g. invalid JSON; the message says where)",
    401: "Missing, invalid or expired access token",
    403: "The identity lacks the permission",
    404: "Not found",
    413: "Request body too large",
    422: "Invalid input; `details` lists each bad field",
    500: "Internal error (logged; the message carries the request id)",
    503: "Not available yet (e.g. read model behind the requested sequence)",
}


def _models(routes: Sequence[Route]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorBody, "serialization"): None, (Pagination, "serialization"): None}
    for r in routes:
        for model in (r.body, r.query, r.params):
            if model is not None:
                wanted[(model, "validation")] = None
        for model in (r.response, *r.alternatives.values()):
            if model is not None:
                wanted[(model, "serialization")] = None
    return list(wanted)


class _Schemas:
    def __init__(self, routes: Sequence[Route]) -> None:
        refs, top = models_json_schema(_models(routes), ref_template=REF)
        self.refs = refs
        self.defs: dict[str, Any] = top.get("$defs", {})

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self.refs[(model, mode)])

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        name = self.refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]
        schema = self.defs[name]
        return schema.get("properties", {}), set(schema.get("required", []))


def _wrapped(route: Route, schema: dict[str, Any], schemas: _Schemas) -> dict[str, Any]:
    if route.envelope == "data":
        return {"type": "object", "required": ["data"], "properties": {"data": schema}}
    if route.envelope == "list":
        return {"type": "object", "required": ["items", "pagination"],
                "properties": {"items": {"type": "array", "items": schema},
                               "pagination": schemas.ref(Pagination, "serialization")}}
    return schema


def _json(schema: dict[str, Any], description: str, media_type: str = "application/json"
          ) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _parameters(route: Route, schemas: _Schemas) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for model, where in ((route.params, "path"), (route.query, "query")):
        if model is None:
            continue
        props, required = schemas.properties(model)
        for name, schema in props.items():
            param = {"name": name, "in": where, "required": where == "path" or name in required,
                     "schema": {k: v for k, v in schema.items() if k != "description"}}
            if "description" in schema:
                param["description"] = schema["description"]
            out.append(param)
    if route.method == "GET":
        out.append(AFTER_SEQUENCE)
    return out


def _error_statuses(route: Route) -> Iterable[int]:
    statuses = {500}
    if route.body is not None:
        statuses |= {400, 413, 422}
    if route.query is not None or route.params is not None:
        statuses.add(422)
    if not route.public:
        statuses |= {401} if route.guard == AUTHENTICATED else {401, 403}
    if route.params is not None:
        statuses.add(404)
    if route.method == "GET":
        statuses |= {400, 503}
    return sorted(statuses)


def operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    success: dict[str, Any] = (schemas.ref(route.response, "serialization")
                               if route.response else
                               {"type": "object"} if route.media_type.endswith("json")
                               else {"type": "string"})
    responses: dict[str, Any] = {str(route.status): _json(_wrapped(route, success, schemas),
                                                          "Success", route.media_type)}
    for status, model in route.alternatives.items():
        responses[str(status)] = _json(_wrapped(route, schemas.ref(model, "serialization"),
                                                schemas), "Accepted, not yet in the read model")
    if route.command:
        for status in (route.status, *route.alternatives):
            responses[str(status)]["headers"] = SEQUENCE_HEADER
    error = schemas.ref(ErrorBody, "serialization")
    for status in _error_statuses(route):
        responses[str(status)] = _json(error, ERRORS[status])
    op: dict[str, Any] = {
        "operationId": route.operation_id, "summary": route.summary, "tags": [route.tag],
        "x-attune-permission": str(route.guard), "responses": responses}
    if not route.public:
        op["security"] = [{"bearerAuth": []}]
    params = _parameters(route, schemas)
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(route.body, "validation")}}}
    return op


def build(routes: Sequence[Route]) -> dict[str, Any]:
    schemas = _Schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Attune API", "version": attune.__version__,
                 "description": "Event-driven automation on NATS JetStream and PostgreSQL. "
                                "Log in with POST /auth/login and send the access token as "
                                "`Authorization: Bearer <token>`."},
        "paths": paths,
        "components": {
            "schemas": schemas.defs,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"}},
        },
        "security": [],
        "tags": [{"name": t} for t in dict.fromkeys(r.tag for r in routes)],
    }

