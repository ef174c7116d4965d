"""`runtimes/*.yaml` of a pack: ref (or file name), name, aliases, description,
`execution_config`, `distributions.verification.commands` and `versions`.

Commands may be written as one string (split like a shell would, never run by one)
or as an argv list. A version's `execution_config` may list only what differs from the
runtime's: it is merged onto it here, so each stored version config is complete.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from attune.domain.runtime import FAMILIES, RuntimeDef, normalize, unknown_templates
from attune.domain.versions import parse_version
from attune.errors import PackError
from attune.packs.fields import NAME, build, field
from attune.packs.yamlfile import load_mapping


def load_runtime(root: Path, path: Path, pack_ref: str) -> RuntimeDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    short = _short_name(doc, shown, pack_ref, path.stem)
    name = field(doc, "name", shown, str) or short
    aliases = field(doc, "aliases", shown, list, default=[])
    if not all(isinstance(a, str) for a in aliases):
        raise PackError(f"{shown}: field 'aliases' must be a list of names")
    family = field(doc, "family", shown, str)
    if family is None:
        family = next((f for f in (normalize(n) for n in (short, name, *aliases)) if f), None)
    if family not in FAMILIES:
        raise PackError(f"{shown}: cannot tell which workers run runtime {short!r}: give it a "
                        f"name or alias among {', '.join(FAMILIES)} or set 'family'")
    config = _config(doc.get("execution_config"), shown, "execution_config")
    versions = []
    for i, raw in enumerate(field(doc, "versions", shown, list, default=[])):
        where = f"versions[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("version"), str | int | float):
            raise PackError(f"{shown}: {where}: must be a mapping with a 'version' string")
        version = str(raw["version"])
        if parse_version(version) is None:
            raise PackError(f"{shown}: {where}.version {version!r} is not a version (e.g. 3.12)")
        own = _config(raw.get("execution_config"), shown, f"{where}.execution_config")
        versions.append({**raw, "version": version,
                         "execution_config": _merge(config, own)})
    return build(RuntimeDef, shown, {
        "ref": f"{pack_ref}.{short}", "pack_ref": pack_ref, "name": name,
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "family": family, "aliases": aliases, "execution_config": config,
        "distributions": field(doc, "distributions", shown, dict, default={}),
        "versions": versions})


def _short_name(doc: dict[str, Any], shown: str, pack_ref: str, default: str) -> str:
    ref = field(doc, "ref", shown, str)
    short = default
    if ref:
        prefix, dot, rest = ref.partition(".")
        if dot and prefix != pack_ref:
            raise PackError(f"{shown}: field 'ref' {ref!r} must start with the pack ref "
                            f"'{pack_ref}.'")
        short = rest if dot else ref
    short = short.lower()
    if not NAME.match(short):
        raise PackError(f"{shown}: runtime name {short!r} must match [a-z][a-z0-9_-]*")
    return short


def _config(raw: Any, shown: str, where: str) -> dict[str, Any]:
    """Normalize an execution_config mapping: string commands become argv lists,
    plain env_vars values become `set` operations; unknown templates are refused."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PackError(f"{shown}: {where} must be a mapping")
    out = dict(raw)
    for section, key in (("environment", "create_command"),
                         ("dependencies", "install_command")):
        part = out.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            out[section] = {**part, key: shlex.split(part[key])}
    interp = out.get("interpreter")
    if isinstance(interp, str):
        out["interpreter"] = {"binary": interp}
    env_vars = out.get("env_vars")
    if isinstance(env_vars, dict):
        out["env_vars"] = {k: ({"value": v} if isinstance(v, str) else v)
                           for k, v in env_vars.items()}
    for text in _strings(out):
        bad = unknown_templates(text)
        if bad:
            raise PackError(f"{shown}: {where}: unknown template {{{bad[0]}}} in {text!r} "
                            "(known: {env_dir}, {pack_dir}, {interpreter}, {manifest_path})")
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
