"""What a route is. The table of them (`attune.api.routes.ROUTES`) is the single
source of the server's routing, its authentication and permission checks, its
request parsing and its OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel

from attune.api.consistency import ProjectionWaiter
from attune.app.context import Context
from attune.app.identities import Identity
from attune.eventstore.envelope import Meta
from attune.security.tokens import Claims, TokenType


@dataclass(frozen=True)
class Permission:
    """What a route needs: `resource:action` as the RBAC grants will name them."""

    resource: str
    action: str

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"


# Routes that are not permission-checked say so, so that none is by omission.
PUBLIC: Final = "public"
#: any valid access token (e.g. `/auth/me`); never allowed under /api/v1
AUTHENTICATED: Final = "authenticated"


Guard = Permission | Literal["public", "authenticated"]
Envelope = Literal["data", "list", "raw"]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: parsed, authenticated and authorized."""

    request: web.Request
    ctx: Context
    waiter: ProjectionWaiter
    meta: Meta
    identity: Identity | None = None
    #: the caller's token (its type and metadata); None on public routes
    claims: Claims | None = None
    body: BaseModel | None = None
    query: BaseModel | None = None
    path: BaseModel | None = None

    def body_as(self, model: type[M]) -> M:
        return _typed(self.body, model)

    def query_as(self, model: type[M]) -> M:
        return _typed(self.query, model)

    def path_as(self, model: type[M]) -> M:
        return _typed(self.path, model)

    @property
    def user(self) -> Identity:
        if self.identity is None:
            raise TypeError("public route has no identity")
        return self.identity


def _typed(value: BaseModel | None, model: type[M]) -> M:
    if not isinstance(value, model):
        raise TypeError(f"route declares no {model.__name__}")
    return value


Handler = Callable[[Call], Awaitable[web.StreamResponse]]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    guard: Guard
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    #: model of the path placeholders (`{ref}`, `{id}`), validated like a query
    params: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    envelope: Envelope = "data"
    status: int = 200
    #: other success answers with their own body (e.g. 202 of execute)
    alternatives: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    #: the answer carries X-Attune-Sequence (it appended to the event store)
    command: bool = False
    media_type: str = "application/json"
    #: the token types a caller may present (a sensor token may post events); None:
    #: access tokens, and on permission-checked routes execution tokens too
    tokens: tuple[TokenType, ...] | None = None

    @property
    def accepted_tokens(self) -> tuple[TokenType, ...]:
        if self.tokens is not None:
            return self.tokens
        # an execution token (an action's ATTUNE_API_TOKEN, the SDK's context.client)
        # holds only its action's grants: it may call whatever route they allow
        return ("access", "execution") if isinstance(self.guard, Permission) else ("access",)

    @property
    def public(self) -> bool:
        return self.guard == PUBLIC

    @property
    def placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.path)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__.lstrip("_")
