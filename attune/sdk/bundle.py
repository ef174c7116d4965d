"""The SDK as a directory for an action's or sensor's Python path.

Packs run in their own virtualenvs, where Attune itself is not installed. The worker
(and the sensor service) call `export_sdk(dir)` once and put the directory it returns on
the child's `PYTHONPATH`: it holds `attune/__init__.py` and `attune/sdk/` only — standard
library code — so `import attune` works with any interpreter >= 3.11 and nothing of the
servers comes along.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # .../attune


def sdk_files() -> list[Path]:
    """The files that make the SDK, relative to the `attune` package directory."""
    files = [Path("__init__.py"), Path("py.typed")]
    for path in sorted((_PACKAGE / "sdk").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".md") and "__pycache__" not in path.parts:
            files.append(path.relative_to(_PACKAGE))
    return [f for f in files if (_PACKAGE / f).is_file()]


def sdk_digest() -> str:
    """A hash of the SDK's files: an exported copy with the same digest is current."""
    digest = hashlib.sha256()
    for rel in sdk_files():
        digest.update(str(rel).encode() + b"\0" + (_PACKAGE / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def export_sdk(target: Path) -> Path:
    """Write the SDK under `target/<digest>/attune/` (once; later calls reuse it) and
    return `target/<digest>`, the directory to put on PYTHONPATH. Safe to call from
    several processes at once: each builds in a temporary directory and renames it."""
    root = target / sdk_digest()
    if (root / "attune" / "__init__.py").is_file():
        return root
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sdk-", dir=target))
    try:
        for rel in sdk_files():
            dest = staging / "attune" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_PACKAGE / rel, dest)
        try:
            os.rename(staging, root)
        except OSError:
            if not (root / "attune" / "__init__.py").is_file():
                raise
            # another process exported the same digest first: use theirs
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
