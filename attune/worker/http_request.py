"""`core.http_request`, run inside the worker (runtime `core.http`): no process to start,
and the secret auth fields (auth_password, auth_token) stay in the worker's memory.

Result (also printed as one JSON line on stdout): status_code, headers, body, json (the
body parsed, when it is JSON), elapsed_ms, url (after redirects), success (status < 400),
error (why no response came, or the HTTP status line). A response with status >= 400 or
no response at all fails the execution, with the same result.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from typing import Any

import aiohttp
import orjson

from attune.domain.execution import Outcome
from attune.worker import output

#: The body kept in the result; executions' events must stay small (the outcome also
#: drops `data` or cuts stdout past the caps every action has).
BODY_CAP = 128 * 1024
STDOUT_CAP = 256 * 1024


def _request_args(p: dict[str, Any]) -> dict[str, Any]:
    headers = {str(k): str(v) for k, v in (p.get("headers") or {}).items()}
    auth_type = p.get("auth_type") or "none"
    if auth_type == "basic":
        pair = f"{p.get('auth_username') or ''}:{p.get('auth_password') or ''}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif auth_type == "bearer":
        headers["Authorization"] = f"Bearer {p.get('auth_token') or ''}"
    args: dict[str, Any] = {
        "headers": headers,
        "params": {str(k): str(v) for k, v in (p.get("query_params") or {}).items()},
        "allow_redirects": bool(p.get("follow_redirects", True)),
        "max_redirects": int(p.get("max_redirects") or 10),
        "ssl": None if p.get("verify_ssl", True) else False,
    }
    if p.get("json_body") is not None:
        args["data"] = orjson.dumps(p["json_body"])
        headers.setdefault("Content-Type", "application/json")
    elif p.get("body") is not None:
        args["data"] = str(p["body"]).encode()
    return args


async def _read_capped(content: aiohttp.StreamReader) -> bytes:
    """Up to BODY_CAP + 1 bytes (one more tells that there was more)."""
    raw = bytearray()
    while len(raw) <= BODY_CAP:
        chunk = await content.read(BODY_CAP + 1 - len(raw))
        if not chunk:
            break
        raw += chunk
    return bytes(raw)


async def request(p: dict[str, Any]) -> dict[str, Any]:
    """Make the request; never raises for what the remote side does."""
    started = time.monotonic()
    result: dict[str, Any] = {"status_code": None, "headers": {}, "body": "", "json": None,
                              "elapsed_ms": 0, "url": p.get("url"), "success": False,
                              "error": None}
    timeout = aiohttp.ClientTimeout(total=float(p.get("timeout") or 30))
    try:
        args = _request_args(p)
        method = str(p.get("method") or "GET").upper()
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.request(method, str(p["url"]), **args) as response:
            raw = await _read_capped(response.content)
            body = raw[:BODY_CAP].decode(response.charset or "utf-8", errors="replace")
            result.update(
                status_code=response.status, url=str(response.url), body=body,
                # keys are case-insensitive `istr`s, which JSON encoders refuse
                headers={str(k): ", ".join(response.headers.getall(k))
                         for k in response.headers},
                success=response.status < 400,
                error=None if response.status < 400 else f"HTTP {response.status} "
                                                         f"{response.reason or ''}".strip())
            if len(raw) > BODY_CAP:
                result["body_truncated"] = True
            with contextlib.suppress(orjson.JSONDecodeError, UnicodeDecodeError):
                result["json"] = orjson.loads(raw) if raw and len(raw) <= BODY_CAP else None
    except TimeoutError:
        result["error"] = f"no response within {timeout.total:g} s"
    except aiohttp.TooManyRedirects:
        result["error"] = f"more than {p.get('max_redirects') or 10} redirects"
    except (aiohttp.ClientError, ValueError, OSError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    return result


async def run(parameters: dict[str, Any], *, timeout_seconds: float,
              cancel: asyncio.Event) -> Outcome:
    started = time.monotonic()
    doing = asyncio.ensure_future(request(parameters))
    stopping = asyncio.ensure_future(cancel.wait())
    done, _ = await asyncio.wait({doing, stopping}, timeout=timeout_seconds,
                                 return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if doing not in done:
        doing.cancel()
        cancelled = stopping in done
        return Outcome(exit_code=None, duration_ms=int((time.monotonic() - started) * 1000),
                       error="cancelled" if cancelled else f"timed out after "
                                                           f"{timeout_seconds:g} s",
                       timed_out=not cancelled, cancelled=cancelled)
    result = doing.result()
    printed = orjson.dumps(result).decode() + "\n"
    return Outcome(exit_code=0 if result["success"] else 1,
                   stdout=printed[:STDOUT_CAP], stdout_truncated=len(printed) > STDOUT_CAP,
                   data=output.fit(result),
                   duration_ms=int((time.monotonic() - started) * 1000), error=result["error"])
