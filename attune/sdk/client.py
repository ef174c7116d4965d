"""`AttuneClient`: the convenient API client for actions and scripts. It defaults to
`ATTUNE_API_URL` / `ATTUNE_API_TOKEN`, returns the parsed JSON of a 2xx answer and raises
`ApiError` (with `.status` and the API's message) otherwise. Every method has an async
twin (`aget`, `apost`, ...) that runs it in a thread.

    client = attune.AttuneClient()
    packs = client.get("/api/v1/packs")["items"]
"""

from __future__ import annotations

import os
from typing import Any

from attune.sdk.api_client.client import AuthenticatedClient, Client, JsonQuery
from attune.sdk.context import DEFAULT_API_URL


class AttuneClient:
    def __init__(self, *, api_url: str | None = None, api_token: str | None = None,
                 timeout: float = 30.0, verify_ssl: bool = True) -> None:
        self.api_url = (api_url or os.environ.get("ATTUNE_API_URL") or DEFAULT_API_URL
                        ).rstrip("/")
        self.api_token = api_token or os.environ.get("ATTUNE_API_TOKEN") or None
        self.api_client: Client = (
            AuthenticatedClient(self.api_url, self.api_token, timeout=timeout,
                                verify_ssl=verify_ssl)
            if self.api_token else Client(self.api_url, timeout=timeout, verify_ssl=verify_ssl))

    def get(self, path: str, *, params: JsonQuery | None = None) -> Any:
        return self.api_client.get(path, params=params)

    def post(self, path: str, *, json: Any = None) -> Any:
        return self.api_client.post(path, json=json)

    def put(self, path: str, *, json: Any = None) -> Any:
        return self.api_client.put(path, json=json)

    def delete(self, path: str) -> Any:
        """None when the answer has no body."""
        return self.api_client.delete(path)

    async def aget(self, path: str, *, params: JsonQuery | None = None) -> Any:
        return await self.api_client.aget(path, params=params)

    async def apost(self, path: str, *, json: Any = None) -> Any:
        return await self.api_client.apost(path, json=json)

    async def aput(self, path: str, *, json: Any = None) -> Any:
        return await self.api_client.aput(path, json=json)

    async def adelete(self, path: str) -> Any:
        return await self.api_client.adelete(path)
