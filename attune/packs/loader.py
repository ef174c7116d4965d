"""Load a pack directory — pack.yaml, runtimes/, actions/, triggers/, rules/, policies/ —
refusing hostile content with a message that names the file and field.

Refused: symlinks leading out of the pack, entry points outside `actions/`,
invalid or oversized YAML, unknown runtimes, bad refs, bad parameter schemas,
rule conditions and templates that cannot work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError as PydanticValidationError

from attune.domain.action import ActionDef
from attune.domain.pack import PACK_REF, PackDef
from attune.domain.policy import PolicyDef
from attune.domain.rule import RuleDef
from attune.domain.runtime import RuntimeDef
from attune.domain.trigger import TriggerDef
from attune.errors import PackError
from attune.packs import fields
from attune.packs.actions import load_action
from attune.packs.policies import load_policy
from attune.packs.rules import load_rule
from attune.packs.runtimes import load_runtime
from attune.packs.triggers import load_trigger
from attune.packs.workflows import load_standalone_workflow
from attune.packs.yamlfile import load_mapping

C = TypeVar("C")

MAX_FILES = 5000


def _check_tree(root: Path) -> None:
    """Every path under the pack must stay inside it once symlinks are resolved."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            count += 1
            if count > MAX_FILES:
                raise PackError(f"pack has more than {MAX_FILES} files")
            path = Path(dirpath) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    raise PackError(f"{path.relative_to(root)}: symlink leads out of the pack "
                                    f"(to {target})")


@dataclass(frozen=True)
class LoadedPack:
    pack: PackDef
    actions: list[ActionDef] = field(default_factory=list)
    triggers: list[TriggerDef] = field(default_factory=list)
    rules: list[RuleDef] = field(default_factory=list)
    policies: list[PolicyDef] = field(default_factory=list)
    runtimes: list[RuntimeDef] = field(default_factory=list)


def load_pack(directory: str | Path) -> LoadedPack:
    try:
        return _load_pack(directory)
    except OSError as exc:  # unreadable files, over-long paths: the pack's author can fix them
        where = exc.filename or directory
        raise PackError(f"{where}: cannot read the pack: {exc.strerror or exc}") from None


def _load_pack(directory: str | Path) -> LoadedPack:
    root = Path(directory)
    if not root.is_absolute():
        raise PackError(f"pack path {str(directory)!r} must be absolute")
    root = root.resolve()
    if not root.is_dir():
        raise PackError(f"pack path {str(root)!r} is not a directory")
    manifest = root / "pack.yaml"
    if not manifest.is_file():
        raise PackError(f"{root}: pack.yaml not found")
    _check_tree(root)
    doc = load_mapping(manifest, "pack.yaml")
    ref = fields.field(doc, "ref", "pack.yaml", str, required=True)
    if not PACK_REF.match(ref):
        raise PackError(f"pack.yaml: field 'ref' {ref!r} must match [a-z][a-z0-9_-]* (no dots)")
    version = doc.get("version")
    if version is None:
        raise PackError("pack.yaml: field 'version' is required")
    try:
        pack = PackDef(
            ref=ref, label=fields.field(doc, "label", "pack.yaml", str, default=ref),
            description=fields.field(doc, "description", "pack.yaml", str, default=""),
            version=str(version), author=fields.field(doc, "author", "pack.yaml", str),
            email=fields.field(doc, "email", "pack.yaml", str),
            system=fields.field(doc, "system", "pack.yaml", bool, default=False),
            enabled=fields.field(doc, "enabled", "pack.yaml", bool, default=True),
            tags=fields.field(doc, "tags", "pack.yaml", list, default=[]),
            config=fields.field(doc, "config", "pack.yaml", dict, default={}),
            path=str(root))
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise PackError(f"pack.yaml: field '{first['loc'][0]}': {first['msg']}") from None
    runtimes = _components(root, "runtimes", lambda p: load_runtime(root, p, ref))
    return LoadedPack(
        pack=pack, runtimes=runtimes,
        actions=_unique([
            *_components(root, "actions", lambda p: load_action(root, p, ref, runtimes)),
            # standalone workflows are actions too (attune/packs/workflows.py)
            *_components(root, "workflows", lambda p: load_standalone_workflow(root, p, ref))]),
        triggers=_components(root, "triggers", lambda p: load_trigger(root, p, ref)),
        rules=_components(root, "rules", lambda p: load_rule(root, p, ref)),
        policies=_components(root, "policies", lambda p: load_policy(root, p, ref)))


def _components(root: Path, folder: str, load: Callable[[Path], C]) -> list[C]:
    """Every `<folder>/*.yaml` of the pack, loaded; a ref defined twice is refused."""
    directory = root / folder
    if not directory.is_dir():
        return []
    found: list[C] = []
    seen: set[str] = set()
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        component = load(path)
        ref = getattr(component, "ref")  # noqa: B009 (every component has a ref)
        if ref in seen:
            raise PackError(f"{folder}/: {ref!r} is defined twice")
        seen.add(ref)
        found.append(component)
    return found


def _unique(actions: list[ActionDef]) -> list[ActionDef]:
    """An action file and a standalone workflow must not define the same ref."""
    seen: set[str] = set()
    for action in actions:
        if action.ref in seen:
            raise PackError(f"actions/, workflows/: {action.ref!r} is defined twice")
        seen.add(action.ref)
    return actions
