"""A namespace whose entries are looked up the first time an expression asks for them:
the `keystore` namespace of rule templates and workflows, so an evaluation never loads
(or decrypts) keys it does not use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Lookup = Callable[[str], Any]
"""Name -> its value, or None when there is no such entry."""


class LazyNamespace(dict[str, Any]):
    def __init__(self, lookup: Lookup | None) -> None:
        super().__init__()
        self._lookup = lookup

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        if self._lookup is None or not isinstance(key, str):
            return False
        value = self._lookup(key)
        if value is None:
            return False
        self[key] = value
        return True
