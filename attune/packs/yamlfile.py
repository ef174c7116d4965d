"""Reading untrusted YAML: size-capped, safe types only, no anchors/aliases
(an alias bomb would expand when the document is serialized)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from attune.errors import PackError

MAX_YAML_BYTES = 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not allowed in pack files", event.start_mark)
        return super().compose_node(parent, index)


def load_mapping(path: Path, shown: str) -> dict[str, Any]:
    """Parse `path` as a YAML mapping; errors name the file as `shown`."""
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise PackError(f"{shown}: file is {size} bytes, over the {MAX_YAML_BYTES} byte limit")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoAliasLoader)  # noqa: S506
    except UnicodeDecodeError:
        raise PackError(f"{shown}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{shown}: invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise PackError(f"{shown}: expected a mapping at the top level, got "
                        f"{type(doc).__name__}")
    return doc
