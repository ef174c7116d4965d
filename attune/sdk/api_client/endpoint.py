"""One API operation, called the way the original SDK's generated modules are:
`op.sync(client=...)` (the parsed JSON body, or None for an error status unless the
client has `raise_on_unexpected_status`), `op.sync_detailed(client=...)` (the whole
Response), and the same as `asyncio` / `asyncio_detailed` coroutines.

Path parameters are passed by name (`get_pack.sync("core", client=c)` or
`ref="core"`) and URL-quoted; `body=` is the JSON body; other keyword arguments become
query parameters (None dropped)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from attune.sdk.api_client.client import ApiError, Client, Response

_PLACEHOLDER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str = ""

    @property
    def path_params(self) -> list[str]:
        return _PLACEHOLDER.findall(self.path)

    def _request(self, args: tuple[Any, ...], kwargs: dict[str, Any]
                 ) -> tuple[str, Any, dict[str, Any]]:
        names = self.path_params
        if len(args) > len(names):
            raise TypeError(f"{self.method} {self.path} takes {len(names)} path "
                            f"argument(s) ({', '.join(names) or 'none'}), got {len(args)}")
        values = dict(zip(names, args, strict=False))
        for name in names[len(args):]:
            if name not in kwargs:
                raise TypeError(f"{self.method} {self.path}: missing path argument {name!r}")
            values[name] = kwargs.pop(name)
        body = kwargs.pop("body", None)
        path = _PLACEHOLDER.sub(lambda m: quote(str(values[m.group(1)]), safe=""), self.path)
        return path, body, kwargs

    def sync_detailed(self, *args: Any, client: Client, **kwargs: Any) -> Response:
        path, body, query = self._request(args, kwargs)
        return client.request(self.method, path, json_body=body, params=query or None)

    def sync(self, *args: Any, client: Client, **kwargs: Any) -> Any:
        path, body, query = self._request(args, kwargs)
        answer = client.request(self.method, path, json_body=body, params=query or None)
        return self._parsed(client, path, answer)

    async def asyncio_detailed(self, *args: Any, client: Client, **kwargs: Any) -> Response:
        path, body, query = self._request(args, kwargs)
        return await client.arequest(self.method, path, json_body=body, params=query or None)

    async def asyncio(self, *args: Any, client: Client, **kwargs: Any) -> Any:
        path, body, query = self._request(args, kwargs)
        answer = await client.arequest(self.method, path, json_body=body,
                                       params=query or None)
        return self._parsed(client, path, answer)

    def _parsed(self, client: Client, path: str, answer: Response) -> Any:
        if answer.ok:
            return answer.parsed
        if client.raise_on_unexpected_status:
            raise ApiError(self.method, client.url(path), answer.status_code, answer.parsed)
        return None
