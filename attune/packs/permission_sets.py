"""`permission_sets/*.yaml` of a pack: ref/name, label, description and
`grants: [{resource, actions: [...], constraints?: {pack_refs, refs, owner}}]`."""

from __future__ import annotations

from pathlib import Path

from attune.domain.permission import PermissionSetDef
from attune.errors import PackError
from attune.packs.fields import build, component_name, field
from attune.packs.yamlfile import load_mapping

FOLDER = "permission_sets"


def load_permission_set(root: Path, path: Path, pack_ref: str) -> PermissionSetDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    return build(PermissionSetDef, shown, {
        "ref": f"{pack_ref}.{name}",
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "grants": field(doc, "grants", shown, list, required=True),
    })


def load_permission_sets(directory: str | Path, pack_ref: str) -> list[PermissionSetDef]:
    """Every permission set of the pack at `directory` (absolute, already checked by
    the pack loader); a ref defined twice is refused."""
    root = Path(directory).resolve()
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    found: dict[str, PermissionSetDef] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        if not path.resolve().is_relative_to(root):
            raise PackError(f"{path.relative_to(root)}: symlink leads out of the pack")
        loaded = load_permission_set(root, path, pack_ref)
        if loaded.ref in found:
            raise PackError(f"{FOLDER}/: {loaded.ref!r} is defined twice")
        found[loaded.ref] = loaded
    return list(found.values())
