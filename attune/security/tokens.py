"""JWTs (HS256) as the original issues them: `sub`, `login`, `iat`, `exp`,
`token_type` (access | refresh | sensor | execution), `scope`, `metadata`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt

from attune.errors import UnauthorizedError

TokenType = Literal["access", "refresh", "sensor", "execution"]
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    sub: int
    login: str
    token_type: TokenType
    iat: int
    exp: int
    scope: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class TokenIssuer:
    def __init__(self, secret: str, *, access_ttl: int = 3600, refresh_ttl: int = 7 * 86400
                 ) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def issue(self, identity_id: int, login: str, token_type: TokenType, *, ttl: int | None = None,
              scope: str | None = None, metadata: dict[str, Any] | None = None,
              now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        if ttl is None:
            ttl = self.refresh_ttl if token_type == "refresh" else self.access_ttl
        payload: dict[str, Any] = {"sub": str(identity_id), "login": login, "iat": issued,
                                   "exp": issued + ttl, "token_type": token_type}
        if scope:
            payload["scope"] = scope
        if metadata:
            payload["metadata"] = metadata
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, *, expect: TokenType | tuple[TokenType, ...] = "access"
               ) -> Claims:
        """Decode and check signature, expiry and type. Anything wrong is a 401."""
        try:
            data = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                              options={"require": ["exp", "iat", "sub"]})
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("token expired: log in again or refresh it") from None
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(f"invalid token: {exc}") from None
        kinds = (expect,) if isinstance(expect, str) else expect
        token_type = data.get("token_type")
        if token_type not in kinds:
            raise UnauthorizedError(
                f"wrong token type {token_type!r}: this endpoint takes {' or '.join(kinds)}")
        try:
            sub = int(data["sub"])
        except (TypeError, ValueError):
            raise UnauthorizedError("invalid token: bad subject") from None
        return Claims(sub=sub, login=str(data.get("login", "")), token_type=token_type,
                      iat=int(data["iat"]), exp=int(data["exp"]), scope=data.get("scope"),
                      metadata=data.get("metadata") or {})
