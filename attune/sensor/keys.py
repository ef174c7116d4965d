"""KV keys of a rule's timer, shared by its lease and its ledger entry.

KV keys allow `[-/_=.a-zA-Z0-9]`: a plain dotted rule ref is used as written
(`timer.mypack.every_minute`); anything else — and a ref starting with `b64.`, so that
the mapping stays one-to-one — is base64url-encoded behind `timer.b64.`.
"""

from __future__ import annotations

import base64
import re

_PLAIN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def timer_key(rule_ref: str) -> str:
    if _PLAIN.match(rule_ref) and not rule_ref.startswith("b64."):
        return f"timer.{rule_ref}"
    encoded = base64.urlsafe_b64encode(rule_ref.encode()).decode().rstrip("=")
    return f"timer.b64.{encoded}"


def sensor_key(sensor_ref: str) -> str:
    """The lease of a sensor's one instance across replicas."""
    return "sensor." + timer_key(sensor_ref).removeprefix("timer.")
