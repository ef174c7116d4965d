"""Where the project's declarative folders live (`streams/`, `projections/`, `packs/`,
`schemas/`): beside the `attune` package in a checkout, overridable by ATTUNE_HOME."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("ATTUNE_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent


def streams_dir() -> Path:
    return home() / "streams"


def projections_dir() -> Path:
    return home() / "projections"


def packs_dir() -> Path:
    return home() / "packs"


def schemas_dir() -> Path:
    return home() / "schemas"
