"""Inquiries: questions to humans that an execution waits on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Request, Response

InquiryStatus = Literal["pending", "responded", "timeout", "cancelled"]


class InquiryOut(Response):
    id: int
    execution_id: int
    workflow_execution_id: int | None
    prompt: str
    response_schema: dict[str, Any]
    assigned_to: str | None
    status: InquiryStatus
    response: dict[str, Any] | None
    responded_by: str | None
    timeout_at: datetime
    created: datetime
    updated: datetime


class InquiryListQuery(PageQuery):
    status: InquiryStatus | None = None
    assigned_to: str | None = Field(default=None, max_length=255,
                                    description="only the inquiries assigned to this login")


class InquiryRespondRequest(Request):
    response: dict[str, Any] = Field(description="the answer, validated against the "
                                                 "inquiry's response_schema")
