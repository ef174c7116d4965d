"""Inquiries: list, show, respond (validated; only the assignee or someone who may
manage inquiries; a second response is a 409), cancel."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import IdPath
from attune.api.models.inquiries import InquiryListQuery, InquiryOut, InquiryRespondRequest
from attune.api.queries import inquiries as reads
from attune.api.routing import Call, Permission, Route
from attune.app import inquiries


async def list_inquiries(call: Call) -> web.Response:
    query = call.query_as(InquiryListQuery)
    items = await reads.list_page(call.ctx.pool, status=query.status,
                                  assigned_to=query.assigned_to,
                                  limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count(call.ctx.pool, status=query.status,
                               assigned_to=query.assigned_to)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_inquiry(call: Call) -> web.Response:
    return envelopes.single(await reads.get(call.ctx.pool, call.path_as(IdPath).id))


async def _answer(call: Call, inquiry_id: int, seq: int) -> web.Response:
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.single(await reads.get(call.ctx.pool, inquiry_id), sequence=seq)


async def respond_to_inquiry(call: Call) -> web.Response:
    inquiry_id = call.path_as(IdPath).id
    body = call.body_as(InquiryRespondRequest)
    seq = await inquiries.respond(call.ctx, inquiry_id, body.response, user=call.user,
                                  meta=call.meta)
    return await _answer(call, inquiry_id, seq)


async def cancel_inquiry(call: Call) -> web.Response:
    inquiry_id = call.path_as(IdPath).id
    seq = await inquiries.cancel(call.ctx, inquiry_id, by=call.user.login, meta=call.meta)
    return await _answer(call, inquiry_id, seq)


ROUTES = [
    Route("GET", "/api/v1/inquiries", list_inquiries,
          "List inquiries, newest first (filters: status, assigned_to)",
          Permission("inquiries", "read"), "inquiries", query=InquiryListQuery,
          response=InquiryOut, envelope="list"),
    Route("GET", "/api/v1/inquiries/{id}", get_inquiry, "Show an inquiry",
          Permission("inquiries", "read"), "inquiries", params=IdPath, response=InquiryOut),
    Route("POST", "/api/v1/inquiries/{id}/respond", respond_to_inquiry,
          "Answer an inquiry: the response is validated against its response_schema; an "
          "assigned inquiry takes the assignee's answer (or a manager's); a second "
          "response is a 409", Permission("inquiries", "respond"), "inquiries",
          params=IdPath, body=InquiryRespondRequest, response=InquiryOut, command=True),
    Route("POST", "/api/v1/inquiries/{id}/cancel", cancel_inquiry,
          "Cancel a pending inquiry and the execution waiting on it",
          Permission("inquiries", "cancel"), "inquiries", params=IdPath,
          response=InquiryOut, command=True),
]
