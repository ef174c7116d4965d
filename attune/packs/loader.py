"""Load a pack directory into a `PackDef` and its `ActionDef`s, refusing hostile
content with a message that names the file and field.

Refused: symlinks leading out of the pack, entry points outside `actions/`,
invalid or oversized YAML, unknown runtimes, bad refs, bad parameter schemas.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from attune.domain.action import ACTION_NAME, RUNTIME_ALIASES, ActionDef
from attune.domain.pack import PACK_REF, PackDef
from attune.domain.params import ParamSpec
from attune.errors import PackError
from attune.packs.yamlfile import load_mapping

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


def _field(doc: dict[str, Any], key: str, shown: str, kind: type, *, required: bool = False,
           default: Any = None) -> Any:
    if key not in doc or doc[key] is None:
        if required:
            raise PackError(f"{shown}: field '{key}' is required")
        return default
    value = doc[key]
    # bool is an int subclass: `true` is no integer here
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PackError(f"{shown}: field '{key}' must be {kind.__name__}, got "
                        f"{type(value).__name__}")
    return value


def _parameters(raw: Any, shown: str) -> dict[str, ParamSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PackError(f"{shown}: field 'parameters' must be a mapping of name -> schema")
    # Older packs use JSON Schema: {type: object, properties: {...}, required: [...]}
    if raw.get("type") == "object" and isinstance(raw.get("properties"), dict):
        required = set(raw.get("required") or [])
        raw = {k: {**v, "required": k in required} if isinstance(v, dict) else v
               for k, v in raw["properties"].items()}
    out: dict[str, ParamSpec] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise PackError(f"{shown}: parameters.{name}: name must be an identifier")
        if not isinstance(spec, dict):
            raise PackError(f"{shown}: parameters.{name}: must be a mapping (type, required, ...)")
        try:
            out[name] = ParamSpec.model_validate(spec)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PackError(f"{shown}: parameters.{name}.{where}: {first['msg']}") from None
    return out


def _action(root: Path, path: Path, pack_ref: str) -> ActionDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = _field(doc, "name", shown, str)
    ref = _field(doc, "ref", shown, str)
    if ref and "." in ref:
        prefix, _, short = ref.partition(".")
        if prefix != pack_ref:
            raise PackError(f"{shown}: field 'ref' {ref!r} must start with the pack ref "
                            f"'{pack_ref}.'")
        name = name or short
    name = name or ref or path.stem
    if not ACTION_NAME.match(name):
        raise PackError(f"{shown}: field 'name' {name!r} must match [a-z][a-z0-9_-]*")
    runner = _field(doc, "runner_type", shown, str) or _field(doc, "runtime", shown, str)
    if runner is None:
        raise PackError(f"{shown}: field 'runner_type' is required (shell, python, nodejs, "
                        "native)")
    runtime = RUNTIME_ALIASES.get(runner.lower())
    if runtime is None:
        known = ", ".join(sorted({*RUNTIME_ALIASES}))
        raise PackError(f"{shown}: field 'runner_type': unknown runtime {runner!r} "
                        f"(known: {known})")
    entry = _field(doc, "entry_point", shown, str, required=True)
    actions_dir = (root / "actions").resolve()
    target = (actions_dir / entry).resolve()
    if os.path.isabs(entry) or not target.is_relative_to(actions_dir):
        raise PackError(f"{shown}: field 'entry_point' {entry!r} must stay inside actions/")
    if not target.is_file():
        raise PackError(f"{shown}: field 'entry_point': file actions/{entry} not found")
    timeout = doc.get("timeout_seconds", doc.get("timeout"))
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)
                                or timeout <= 0):
        raise PackError(f"{shown}: field 'timeout_seconds' must be a positive integer")
    try:
        return ActionDef(
            ref=f"{pack_ref}.{name}", pack_ref=pack_ref, name=name,
            label=_field(doc, "label", shown, str) or name,
            description=_field(doc, "description", shown, str, default=""),
            enabled=_field(doc, "enabled", shown, bool, default=True),
            runtime=runtime, entry_point=entry,
            parameters=_parameters(doc.get("parameters"), shown),
            parameter_delivery=doc.get("parameter_delivery", "stdin"),
            parameter_format=doc.get("parameter_format", "json"),
            output_format=doc.get("output_format", "text"),
            timeout_seconds=timeout,
            tags=_field(doc, "tags", shown, list, default=[]),
        )
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PackError(f"{shown}: field '{where}': {first['msg']}") from None


@dataclass(frozen=True)
class LoadedPack:
    pack: PackDef
    actions: list[ActionDef] = field(default_factory=list)


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
    ref = _field(doc, "ref", "pack.yaml", str, required=True)
    if not PACK_REF.match(ref):
        raise PackError(f"pack.yaml: field 'ref' {ref!r} must match [a-z][a-z0-9_-]* (no dots)")
    version = doc.get("version")
    if version is None:
        raise PackError("pack.yaml: field 'version' is required")
    try:
        pack = PackDef(
            ref=ref, label=_field(doc, "label", "pack.yaml", str, default=ref),
            description=_field(doc, "description", "pack.yaml", str, default=""),
            version=str(version), author=_field(doc, "author", "pack.yaml", str),
            email=_field(doc, "email", "pack.yaml", str),
            system=_field(doc, "system", "pack.yaml", bool, default=False),
            enabled=_field(doc, "enabled", "pack.yaml", bool, default=True),
            tags=_field(doc, "tags", "pack.yaml", list, default=[]),
            config=_field(doc, "config", "pack.yaml", dict, default={}),
            path=str(root))
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise PackError(f"pack.yaml: field '{first['loc'][0]}': {first['msg']}") from None
    actions: list[ActionDef] = []
    actions_dir = root / "actions"
    if actions_dir.is_dir():
        for path in sorted([*actions_dir.glob("*.yaml"), *actions_dir.glob("*.yml")]):
            actions.append(_action(root, path, ref))
    seen: set[str] = set()
    for action in actions:
        if action.ref in seen:
            raise PackError(f"actions/: action {action.ref!r} is defined twice")
        seen.add(action.ref)
    return LoadedPack(pack=pack, actions=actions)
