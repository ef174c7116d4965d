"""The API describing itself: the OpenAPI document and a page that shows it."""

from __future__ import annotations

from aiohttp import web

from attune.api.docs_page import DOCS_HTML
from attune.api.envelopes import JSON
from attune.api.routing import PUBLIC, Call, Route

#: the document, serialized once when the app is built (it never changes while running)
SPEC = web.AppKey("openapi", bytes)


async def openapi_json(call: Call) -> web.Response:
    return web.Response(body=call.request.app[SPEC], content_type=JSON)


async def docs(call: Call) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html")


ROUTES = [
    Route("GET", "/api-spec/openapi.json", openapi_json, "This API as OpenAPI 3.1", PUBLIC,
          "docs", envelope="raw"),
    Route("GET", "/docs", docs, "Browsable API documentation (HTML)", PUBLIC, "docs",
          envelope="raw", media_type="text/html"),
]
