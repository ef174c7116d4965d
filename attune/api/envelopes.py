"""The response envelopes of the original: `{"data": ...}` for one item,
`{"items": [...], "pagination": {...}}` for lists, `{"error", "code", "details"?}`
for errors."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

from attune.api.models import ErrorBody, PageQuery, Pagination

JSON = "application/json"
SEQUENCE_HEADER = "X-Attune-Sequence"


def json_response(payload: Any, *, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type=JSON,
                        headers=headers)


def dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json")


def single(model: BaseModel, *, status: int = 200, sequence: int | None = None
           ) -> web.Response:
    headers = {SEQUENCE_HEADER: str(sequence)} if sequence is not None else None
    return json_response({"data": dump(model)}, status=status, headers=headers)


def raw(model: BaseModel, *, status: int = 200) -> web.Response:
    return json_response(dump(model), status=status)


def page(fetched: Sequence[BaseModel], query: PageQuery, *, total: int | None = None
         ) -> web.Response:
    """`fetched` holds up to `query.fetch_limit` items: one beyond the page means a next."""
    items = fetched[:query.page_size]
    pagination = Pagination(
        page=query.page, page_size=query.page_size, has_next=len(fetched) > query.page_size,
        has_previous=query.page > 1, total_items=total,
        total_pages=None if total is None else math.ceil(total / query.page_size))
    return json_response({"items": [dump(i) for i in items],
                          "pagination": pagination.model_dump(mode="json", exclude_none=True)})


def error(status: int, code: str, message: str, details: Any = None,
          headers: dict[str, str] | None = None) -> web.Response:
    body = ErrorBody(error=message, code=code, details=details)
    return json_response(body.model_dump(mode="json", exclude_none=True), status=status,
                         headers=headers)
