"""Where artifact content lives: the JetStream Object Store bucket `attune_artifacts`
(object `<artifact id>/<nonce>`, named by the version's event) and, for allocated
versions until they are stored, the shared artifacts directory
(`<data dir>/artifacts/<execution id>/<file path>`, the ATTUNE_ARTIFACTS_DIR a worker
gives each execution; `_shared/` for other callers)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
import weakref
from pathlib import Path
from typing import IO

from nats.aio.client import Client
from nats.js.errors import NotFoundError as ObjectNotFound
from nats.js.object_store import ObjectStore

from attune.app.context import Context
from attune.errors import NotFoundError, ValidationError

BUCKET = "attune_artifacts"
#: file root of versions allocated by callers that are not executions
SHARED_ROOT = "_shared"
#: uploads are spooled in memory up to this size, then to a temporary file
SPOOL_BYTES = 4 * 1024 * 1024
CHUNK = 256 * 1024

_buckets: weakref.WeakKeyDictionary[Client, ObjectStore] = weakref.WeakKeyDictionary()


def artifacts_root(ctx: Context) -> Path:
    """The shared artifacts directory (the workers' `artifacts_root`)."""
    return ctx.settings.data_dir / "artifacts"


def file_location(ctx: Context, file_root: str, file_path: str) -> Path:
    base = (artifacts_root(ctx) / file_root).resolve()
    path = (base / file_path).resolve()
    if not path.is_relative_to(base):
        raise ValidationError(f"file path {file_path!r} leaves the artifacts directory")
    return path


def discard_file(ctx: Context, file_root: str, path: Path) -> None:
    """Remove a stored version's file and the folders it leaves empty, up to (not
    including) its root: the execution's ATTUNE_ARTIFACTS_DIR stays the worker's."""
    base = (artifacts_root(ctx) / file_root).resolve()
    with contextlib.suppress(OSError):
        path.unlink()
        folder = path.parent
        while folder != base and folder.is_relative_to(base):
            folder.rmdir()  # OSError when not empty: stop there
            folder = folder.parent


async def bucket(ctx: Context) -> ObjectStore:
    store = _buckets.get(ctx.nc)
    if store is None:
        store = await ctx.store.js.object_store(BUCKET)
        _buckets[ctx.nc] = store
    return store


def spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


def digest(source: IO[bytes]) -> tuple[int, str]:
    """(size, sha256 hex) of a seekable file, rewound afterwards."""
    source.seek(0)
    sha = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    source.seek(0)
    return size, sha.hexdigest()


async def put(ctx: Context, key: str, source: IO[bytes]) -> tuple[int, str]:
    """Store `source` under `key`; returns (size, sha256 hex)."""
    size, sha = await asyncio.to_thread(digest, source)
    await (await bucket(ctx)).put(key, source)  # type: ignore[arg-type]
    return size, sha


async def put_bytes(ctx: Context, key: str, data: bytes) -> tuple[int, str]:
    await (await bucket(ctx)).put(key, data)
    return len(data), hashlib.sha256(data).hexdigest()


async def put_file(ctx: Context, key: str, path: Path) -> tuple[int, str]:
    with path.open("rb") as source:
        return await put(ctx, key, source)


async def get(ctx: Context, key: str) -> IO[bytes]:
    """The content of `key` in a rewound temporary file (the caller closes it)."""
    target = spool()
    try:
        await (await bucket(ctx)).get(key, writeinto=target)  # type: ignore[arg-type]
    except ObjectNotFound:
        target.close()
        raise NotFoundError(f"artifact content {key!r} is gone from the object store "
                            "(removed by retention?)") from None
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


async def delete(ctx: Context, keys: list[str]) -> None:
    """Best effort: the events already say the content is gone; a leftover object only
    takes space (and is overwritten if the key is ever reused)."""
    store = await bucket(ctx)
    for key in keys:
        with contextlib.suppress(Exception):
            await store.delete(key)
