"""What a worker does with an action's output before it appends the outcome: store the
files the action wrote for the file versions it allocated (SDK `allocate_file_version`),
and keep a result too large for the outcome event as an artifact that the outcome's
data references — so large outputs never bloat events (StackStorm's 16 MB wall):

    {"$attune_artifact": {"id": 812, "ref": "execution.811.result", "version": 1,
                          "size_bytes": 5242880, "sha256": "...",
                          "content_type": "application/json",
                          "download": "/api/v1/artifacts/812/download"}}
"""

from __future__ import annotations

import io
from typing import Any

import orjson

import attune.log as log
from attune.app import artifacts
from attune.app.context import Context
from attune.domain.artifact import ArtifactSpec
from attune.domain.execution import Outcome
from attune.eventstore.envelope import Meta

#: Parsed data kept inside the outcome event at most (the event also carries the
#: beginning of stdout and stderr, and events are at most 1 MiB); larger results
#: become artifacts.
INLINE_RESULT_BYTES = 256 * 1024
REFERENCE = "$attune_artifact"
_log = log.get("artifacts.results")


def result_ref(execution_id: int) -> str:
    return f"execution.{execution_id}.result"


async def store_result(ctx: Context, execution_id: int, action_ref: str, raw: bytes, *,
                       meta: Meta) -> dict[str, Any]:
    """Keep `raw` (the result as JSON) as artifact `execution.<id>.result`; returns the
    reference that stands for it in the outcome. A redelivered run adds a version."""
    ref = result_ref(execution_id)
    state, _ = await artifacts.load(ctx, ref)
    if state is None:
        spec = ArtifactSpec(ref=ref, type="other", scope="action", owner=action_ref,
                            name=f"Result of execution {execution_id}",
                            content_type="application/json", retention_limit=1,
                            execution=execution_id, created_by=action_ref)
        artifact_id, _ = await artifacts.create(ctx, spec, meta=meta)
    else:
        artifact_id = state.id
    version, _ = await artifacts.upload(ctx, artifact_id, io.BytesIO(raw),
                                        content_type="application/json",
                                        created_by=action_ref, execution=execution_id,
                                        meta=meta)
    return {REFERENCE: {"id": artifact_id, "ref": ref, "version": version.version,
                        "size_bytes": version.size_bytes, "sha256": version.sha256,
                        "content_type": "application/json",
                        "download": f"/api/v1/artifacts/{artifact_id}/download"}}


async def settle(ctx: Context, execution_id: int, action_ref: str, outcome: Outcome, *,
                 meta: Meta) -> Outcome:
    """The outcome to append: files collected, an oversized result moved to an artifact
    (or, if that fails, dropped as before — the output stays in the execution's logs)."""
    try:
        await artifacts.collect_execution(ctx, execution_id, meta=meta)
    except Exception as exc:  # the outcome matters more: the files stay on the volume
        _log.warning("artifacts.collect_failed", execution_id=execution_id, error=repr(exc))
    if outcome.data is None:
        return outcome
    try:
        raw = orjson.dumps(outcome.data, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # yaml may yield values JSON cannot hold
        return outcome.model_copy(update={"data": None})
    if len(raw) <= INLINE_RESULT_BYTES:
        return outcome
    try:
        reference = await store_result(ctx, execution_id, action_ref, raw, meta=meta)
    except Exception as exc:
        _log.warning("artifacts.result_not_stored", execution_id=execution_id,
                     bytes=len(raw), error=repr(exc))
        return outcome.model_copy(update={"data": None})
    _log.info("artifacts.result_stored", execution_id=execution_id, bytes=len(raw))
    return outcome.model_copy(update={"data": reference})
