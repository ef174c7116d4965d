"""A tiny HTTP helper for the API tests (tests/test_api_*.py): aiohttp against the
`platform` fixture's real server, answers as (status, JSON body, headers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from tests.conftest import ADMIN_PASSWORD, RunningPlatform


@dataclass
class Answer:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def code(self) -> str:
        return str(self.body.get("code"))

    @property
    def sequence(self) -> int:
        return int(self.headers["X-Attune-Sequence"])


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.token: str | None = None

    async def request(self, method: str, path: str, *, json: Any = None,
                      data: bytes | str | None = None, headers: dict[str, str] | None = None,
                      params: Any = None, token: str | None = "default") -> Answer:
        sent = dict(headers or {})
        bearer = self.token if token == "default" else token
        if bearer is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {bearer}"
        async with self.session.request(method, self.base + path, json=json, data=data,
                                        headers=sent, params=params) as r:
            text = await r.text()
            try:
                body = await r.json(content_type=None) if text else None
            except ValueError:
                body = text
            return Answer(r.status, body, r.headers)

    async def get(self, path: str, **kw: Any) -> Answer:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Answer:
        return await self.request("POST", path, **kw)

    async def login(self, login: str = "admin", password: str = ADMIN_PASSWORD) -> Answer:
        answer = await self.post("/auth/login", json={"login": login, "password": password})
        assert answer.status == 200, answer.body
        self.token = answer.data["access_token"]
        return answer


@asynccontextmanager
async def admin_api(platform: RunningPlatform) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        api = Api(session, platform.api_url)
        await api.login()
        yield api


def assert_error(answer: Answer, status: int, code: str, *fragments: str) -> None:
    """The error envelope with this status and code, whose message names each fragment."""
    shown = repr(answer.body)[:600]  # bodies may be huge
    assert answer.status == status, (answer.status, shown)
    assert isinstance(answer.body, dict) and set(answer.body) <= {"error", "code", "details"}, \
        shown
    assert answer.body["code"] == code, shown
    for fragment in fragments:
        assert fragment in answer.body["error"], (fragment, shown)
