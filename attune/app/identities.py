"""Identities: creation (login unique by the stream itself), bootstrap of the admin,
and password checks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from attune.app.context import Context
from attune.domain.identity import IdentityCreated
from attune.errors import ConcurrencyError, ConflictError, UnauthorizedError, ValidationError
from attune.eventstore.envelope import Meta
from attune.security.passwords import hash_password, verify_password

ADMIN_LOGIN = "admin"
ADMIN_SETS = ["core.admin"]


@dataclass(frozen=True)
class Identity:
    id: int
    login: str
    display_name: str
    permission_set_refs: list[str]

    @property
    def is_admin(self) -> bool:
        return "core.admin" in self.permission_set_refs

    def public(self) -> dict[str, object]:
        return {"id": self.id, "login": self.login, "display_name": self.display_name}


def _identity(row: asyncpg.Record) -> Identity:
    return Identity(id=row["id"], login=row["login"], display_name=row["display_name"],
                    permission_set_refs=list(row["permission_set_refs"]))


async def create(ctx: Context, login: str, password: str, *, display_name: str | None = None,
                 permission_set_refs: list[str] | None = None, meta: Meta) -> int:
    login = login.strip()
    if not login or len(login) > 128:
        raise ValidationError("login must be 1-128 characters")
    if len(password) < 8:
        raise ValidationError("password must be at least 8 characters")
    password_hash = await asyncio.to_thread(hash_password, password)
    event = IdentityCreated(at=ctx.clock(), login=login, display_name=display_name or login,
                            password_hash=password_hash,
                            permission_set_refs=permission_set_refs or [])
    try:
        return await ctx.store.append(login, event, expected_version=0,
                                      msg_id=f"identity:{login}:created", meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"identity {login!r} already exists") from None


async def ensure_admin(ctx: Context, password: str) -> bool:
    """Create `admin` unless it exists. Returns True when it was created now."""
    _, version = await ctx.store.load("identity", ADMIN_LOGIN)
    if version:
        return False
    try:
        await create(ctx, ADMIN_LOGIN, password, display_name="Administrator",
                     permission_set_refs=ADMIN_SETS, meta=Meta.new(actor="system"))
    except ConflictError:
        return False
    return True


async def by_id(ctx: Context, identity_id: int) -> Identity | None:
    row = await ctx.pool.fetchrow(
        "SELECT id, login, display_name, permission_set_refs FROM identities WHERE id = $1",
        identity_id)
    return _identity(row) if row else None


async def authenticate(ctx: Context, login: str, password: str) -> Identity:
    row = await ctx.pool.fetchrow(
        "SELECT id, login, display_name, permission_set_refs, password_hash FROM identities "
        "WHERE login = $1", login)
    # argon2 takes ~100+ ms of CPU by design: keep it off the event loop
    ok = row is not None and await asyncio.to_thread(verify_password, row["password_hash"],
                                                     password)
    if row is None or not ok:
        raise UnauthorizedError("invalid login or password")
    return _identity(row)
