"""The subject scheme (documented in `streams/README.md`).

    attune.<aggregate>.<key>.<event>   aggregate events, e.g. attune.execution.7311.completed
    attune.<aggregate>.new.<event>     creation of an aggregate whose id is the sequence
                                       number JetStream gives this first event
    attune.work.<runtime>              work queue for workers
"""

from __future__ import annotations

import base64
import re

PREFIX = "attune"
NEW = "new"
_PLAIN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def token(key: str | int) -> str:
    """A subject token for an aggregate key. Plain keys and dotted refs stay readable
    (`core.echo` -> `core:echo`: plain keys contain no `:`, so this is injective);
    anything else is base64url-encoded behind a `~`."""
    text = str(key)
    if _PLAIN.match(text) and text != NEW:
        return text.replace(".", ":")
    return "~" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def untoken(tok: str) -> str:
    """The key a subject token stands for (inverse of `token`)."""
    if tok.startswith("~"):
        raw = tok[1:]
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    return tok.replace(":", ".")


def aggregate_subject(aggregate: str, key: str | int, event_name: str) -> str:
    return f"{PREFIX}.{aggregate}.{token(key)}.{event_name}"


def aggregate_filter(aggregate: str, key: str | int) -> str:
    """All events of one aggregate (the OCC scope)."""
    return f"{PREFIX}.{aggregate}.{token(key)}.>"


def creation_subject(aggregate: str, event_name: str) -> str:
    return f"{PREFIX}.{aggregate}.{NEW}.{event_name}"


def work_subject(runtime: str) -> str:
    return f"{PREFIX}.work.{runtime}"
