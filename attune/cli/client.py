"""A small synchronous client of the Attune HTTP API for the CLI (urllib: a command
makes a handful of requests, one after the other).

It sends the bearer token of the last login (or ATTUNE_AUTH_TOKEN), refreshes an
expired access token once with the refresh token and saves the new pair, and turns
every failure into a `CliError` that says what to do.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import click

from attune.cli.config import CliConfig, resolve_api_url
from attune.cli.output import CliError

F = TypeVar("F", bound=Callable[..., Any])

SEQUENCE_HEADER = "X-Attune-Sequence"
AFTER_SEQUENCE_HEADER = "X-Attune-After-Sequence"


def api_url_option(func: F) -> F:
    option = click.option(
        "--api-url", "api_url", metavar="URL", default=None,
        help="The Attune API [env ATTUNE_API_URL; default: the URL of the last "
        "login, else http://127.0.0.1:8080].")
    return option(func)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        """The `data` of a `{"data": ...}` envelope (other bodies as they are)."""
        if isinstance(self.body, dict) and "data" in self.body:
            return self.body["data"]
        return self.body

    @property
    def sequence(self) -> int | None:
        raw = self.headers.get(SEQUENCE_HEADER.lower())
        return int(raw) if raw and raw.isdigit() else None


def segment(value: str) -> str:
    """A path segment (a ref or id) quoted so it cannot change the route."""
    return quote(value, safe="")


class ApiClient:
    def __init__(self, api_url: str, config: CliConfig, *, timeout: float = 30.0) -> None:
        self.api_url = api_url
        self.config = config
        self.timeout = timeout
        # ATTUNE_AUTH_TOKEN wins over the saved login and is never refreshed or saved
        self._override = os.environ.get("ATTUNE_AUTH_TOKEN") or None
        self._access, self._refresh = config.tokens_for(api_url)

    @classmethod
    def from_options(cls, api_url: str | None) -> ApiClient:
        config = CliConfig.load()
        return cls(resolve_api_url(api_url, config), config)

    # -- verbs -------------------------------------------------------------------

    def get(self, path: str, *, query: dict[str, Any] | None = None,
            after_sequence: int | None = None) -> Response:
        headers = {AFTER_SEQUENCE_HEADER: str(after_sequence)} if after_sequence else {}
        return self.request("GET", path, query=query, headers=headers)

    def post(self, path: str, body: Any, *, auth: bool = True) -> Response:
        return self.request("POST", path, body=body, auth=auth)

    def request(self, method: str, path: str, *, body: Any = None,
                query: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                auth: bool = True) -> Response:
        token = (self._override or self._access) if auth else None
        response = self._send(method, path, body, query, headers or {}, token)
        if response.status == 401 and auth and not self._override and self._refresh:
            if self._refreshed():
                response = self._send(method, path, body, query, headers or {}, self._access)
            else:
                raise CliError("your session has expired: log in again with `attune login`")
        if response.status == 401 and auth and not token:
            raise CliError("not logged in: run `attune login` first (or set "
                           "ATTUNE_AUTH_TOKEN)")
        if response.status >= 400:
            raise api_error(response)
        return response

    # -- internals -----------------------------------------------------------------

    def _refreshed(self) -> bool:
        """Trade the refresh token for a new pair and save it. False when refused."""
        response = self._send("POST", "/auth/refresh", {"refresh_token": self._refresh},
                              None, {}, None)
        data = response.data if response.status == 200 else None
        if not isinstance(data, dict) or not data.get("access_token"):
            return False
        self._access = str(data["access_token"])
        self._refresh = str(data.get("refresh_token") or self._refresh)
        self.config.access_token, self.config.refresh_token = self._access, self._refresh
        self.config.save()
        return True

    def _send(self, method: str, path: str, body: Any, query: dict[str, Any] | None,
              headers: dict[str, str], token: str | None) -> Response:
        url = self.api_url + path
        if query:
            # JSON-style booleans, as the API's query models read them
            kept = {k: (str(v).lower() if isinstance(v, bool) else v)
                    for k, v in query.items() if v is not None}
            if kept:
                url += "?" + urlencode(kept)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                return _response(resp.status, resp.read(), dict(resp.headers.items()), url)
        except urllib.error.HTTPError as err:
            return _response(err.code, err.read(), dict(err.headers.items()), url)
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise CliError(f"cannot reach the API at {self.api_url}: is `attune up` "
                           f"running? ({reason})") from None


def _response(status: int, raw: bytes, headers: dict[str, str], url: str) -> Response:
    lowered = {k.lower(): v for k, v in headers.items()}
    if not raw:
        return Response(status, None, lowered)
    try:
        body = json.loads(raw)
    except ValueError:
        if status >= 400:
            # not our API's envelope (a proxy, or another program on that port)
            snippet = raw[:200].decode(errors="replace").strip()
            raise CliError(f"{url} answered {status} without JSON: {snippet}") from None
        raise CliError(f"{url} answered with something other than JSON: is this the "
                       "Attune API?") from None
    return Response(status, body, lowered)


def api_error(response: Response) -> CliError:
    """The API's error envelope `{"error", "code", "details"}` as a CliError."""
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return CliError(body["error"], body.get("details"), status=response.status)
    return CliError(f"the API answered {response.status}: {body!r}", status=response.status)
