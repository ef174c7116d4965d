"""The SDK's HTTP client: the standard library only (urllib), so it works in any pack's
virtualenv. One client serves sync and async code: the async methods run the sync call
in a thread (`asyncio.to_thread`), which is plenty for actions and sensors.

`Client` talks to the API without credentials; `AuthenticatedClient` adds
`Authorization: Bearer <token>` (the names match the original SDK's generated client).
Paths are relative to `base_url` (e.g. `/api/v1/packs`); bodies are JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any
from urllib.parse import urlencode

JsonQuery = Mapping[str, Any]


class TransportError(OSError):
    """The API could not be reached (refused, reset, DNS, timeout): nothing was answered."""


class ApiError(RuntimeError):
    """The API answered with an error status. `status` is the HTTP status, `body` the
    parsed JSON body (or the raw text), `message` the API's own explanation."""

    def __init__(self, method: str, url: str, status: int, body: Any) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.message = _message_of(body)
        super().__init__(f"{method} {url} -> {status}: {self.message}")


def _message_of(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
    text = body if isinstance(body, str) else json.dumps(body)
    return text[:500]


@dataclass(frozen=True)
class Response:
    """An HTTP answer: `status_code`, raw `content`, `headers` (lower-cased names) and
    `parsed` (the JSON body, or None when empty or not JSON)."""

    status_code: int
    content: bytes
    headers: dict[str, str]
    parsed: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return self.parsed


def _parse(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


@dataclass
class Client:
    """An API client without credentials (health, login, webhooks)."""

    base_url: str
    _: KW_ONLY
    timeout: float = 30.0
    verify_ssl: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    raise_on_unexpected_status: bool = False

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    def request_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", **self.headers}

    def url(self, path: str, params: JsonQuery | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        query = _query(params)
        return f"{url}?{query}" if query else url

    def request(self, method: str, path: str, *, json_body: Any = None,
                params: JsonQuery | None = None) -> Response:
        """Send one request and return the answer whatever its status (see `call` for
        the raising variant). Raises TransportError when nothing answered."""
        # urllib is imported here, not at the top: `import attune` stays cheap for
        # everything that never makes a request (the CLI and servers import it too).
        import ssl
        import urllib.error
        import urllib.request

        url = self.url(path, params)
        data = None
        headers = self.request_headers()
        if json_body is not None:
            data = json.dumps(json_body, default=str).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers,  # noqa: S310 - http(s)
                                     method=method.upper())
        context = None
        if url.startswith("https://") and not self.verify_ssl:
            context = ssl._create_unverified_context()  # noqa: S323 - the caller asked for it
        try:
            with urllib.request.urlopen(req, timeout=self.timeout,  # noqa: S310 - http(s) only
                                        context=context) as answer:
                content = answer.read()
                return Response(answer.status, content, _lower(answer.headers.items()),
                                _parse(content))
        except urllib.error.HTTPError as exc:
            content = exc.read()
            return Response(exc.code, content, _lower(exc.headers.items()), _parse(content))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(f"{method.upper()} {url} failed: {reason}") from exc

    def call(self, method: str, path: str, *, json_body: Any = None,
             params: JsonQuery | None = None) -> Any:
        """Send one request; return the parsed JSON body of a 2xx answer, raise ApiError
        for any other status."""
        answer = self.request(method, path, json_body=json_body, params=params)
        if not answer.ok:
            raise ApiError(method.upper(), self.url(path, params), answer.status_code,
                           answer.parsed)
        return answer.parsed

    def get(self, path: str, *, params: JsonQuery | None = None) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, *, json: Any = None) -> Any:
        return self.call("POST", path, json_body=json)

    def put(self, path: str, *, json: Any = None) -> Any:
        return self.call("PUT", path, json_body=json)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    async def arequest(self, method: str, path: str, *, json_body: Any = None,
                       params: JsonQuery | None = None) -> Response:
        import asyncio

        return await asyncio.to_thread(self.request, method, path, json_body=json_body,
                                       params=params)

    async def acall(self, method: str, path: str, *, json_body: Any = None,
                    params: JsonQuery | None = None) -> Any:
        import asyncio

        return await asyncio.to_thread(self.call, method, path, json_body=json_body,
                                       params=params)

    async def aget(self, path: str, *, params: JsonQuery | None = None) -> Any:
        return await self.acall("GET", path, params=params)

    async def apost(self, path: str, *, json: Any = None) -> Any:
        return await self.acall("POST", path, json_body=json)

    async def aput(self, path: str, *, json: Any = None) -> Any:
        return await self.acall("PUT", path, json_body=json)

    async def adelete(self, path: str) -> Any:
        return await self.acall("DELETE", path)


@dataclass
class AuthenticatedClient(Client):
    """An API client that sends `<auth_header_name>: <prefix> <token>` on every request.
    `token` may be reassigned at any time (a sensor's token rotation does so)."""

    token: str = field(repr=False)
    prefix: str = "Bearer"
    auth_header_name: str = "Authorization"

    def request_headers(self) -> dict[str, str]:
        headers = super().request_headers()
        headers[self.auth_header_name] = f"{self.prefix} {self.token}" if self.prefix \
            else self.token
        return headers


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


def _query(params: JsonQuery | None) -> str:
    """Query string: None values dropped, booleans as true/false, lists repeated."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool)
                          else str(item)))
    return urlencode(pairs)
