"""What an action or a sensor learns from its environment (`ATTUNE_*` variables).

`action_context` and `sensor_context` are built once, when `attune` is imported
(`attune.context` is the action's). A sensor's API token is not a fixed value: it is
resolved on every use from `ATTUNE_SENSOR_TOKEN_STATE_PATH` (a JSON file the sensor
service replaces atomically when it rotates the token) or, without that file, from
`ATTUNE_API_TOKEN` as the environment holds it now.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from attune.sdk.api_client.client import AuthenticatedClient

DEFAULT_API_URL = "http://localhost:8080"
DEFAULT_NOTIFIER_WS_URL = "ws://localhost:8081/ws"
DEFAULT_RECONNECT_WINDOW = 30.0
SENSOR_CONFIG_PREFIX = "ATTUNE_SENSOR_CONFIG_"
NO_SENSOR_TOKEN = ("Managed sensor API token is unavailable. Set ATTUNE_API_TOKEN or provide "
                   "a readable ATTUNE_SENSOR_TOKEN_STATE_PATH.")
NO_ACTION_TOKEN = ("No API token available. The worker sets ATTUNE_API_TOKEN for actions "
                   "that may call the API; outside an execution build a client yourself: "
                   "attune.AuthenticatedClient(base_url=..., token=...).")


def _env(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    return (os.environ if environ is None else environ).get(name, default)


def _optional(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    value = _env(name, environ=environ).strip()
    return value or None


def _api_url(environ: Mapping[str, str] | None = None) -> str:
    return (_env("ATTUNE_API_URL", environ=environ).strip() or DEFAULT_API_URL).rstrip("/")


@dataclass(frozen=True)
class ActionContext:
    """The running action: who it is, which execution, how to reach the API."""

    action_ref: str = ""
    pack_ref: str = ""
    execution_id: str = ""
    api_url: str = DEFAULT_API_URL
    api_token: str | None = field(default=None, repr=False)  # a secret: never printed
    artifacts_dir: Path | None = None
    runtime_envs_dir: Path | None = None
    rule_ref: str | None = None
    trigger_ref: str | None = None

    @property
    def has_api_token(self) -> bool:
        return bool(self.api_token)

    @cached_property
    def client(self) -> AuthenticatedClient:
        """An API client with the execution's token (built on first use)."""
        if not self.api_token:
            raise RuntimeError(NO_ACTION_TOKEN)
        return AuthenticatedClient(self.api_url, self.api_token)


def _build_action_context(environ: Mapping[str, str] | None = None) -> ActionContext:
    def path(name: str) -> Path | None:
        value = _optional(name, environ)
        return Path(value) if value else None

    return ActionContext(
        action_ref=_env("ATTUNE_ACTION", environ=environ),
        pack_ref=_env("ATTUNE_PACK_REF", environ=environ),
        execution_id=_env("ATTUNE_EXEC_ID", environ=environ),
        api_url=_api_url(environ),
        api_token=_optional("ATTUNE_API_TOKEN", environ),
        artifacts_dir=path("ATTUNE_ARTIFACTS_DIR"),
        runtime_envs_dir=path("ATTUNE_RUNTIME_ENVS_DIR"),
        rule_ref=_optional("ATTUNE_RULE", environ),
        trigger_ref=_optional("ATTUNE_TRIGGER", environ))


# --- sensor tokens ------------------------------------------------------------------------

def parse_expiry(value: Any) -> datetime | None:
    """Epoch seconds (number or numeric string > 0) or ISO-8601 (`Z` allowed; naive means
    UTC). Anything else: None, read as "never expires"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SensorTokenState:
    token: str | None
    expires_at: datetime | None = None

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        moment = now or datetime.now(UTC)
        return (self.expires_at - moment).total_seconds() <= seconds


class SensorTokenProvider(Protocol):
    def current(self) -> SensorTokenState: ...


def _startup_state(environ: Mapping[str, str] | None = None) -> SensorTokenState:
    expiry = (_optional("ATTUNE_API_TOKEN_EXPIRES_AT", environ)
              or _optional("ATTUNE_SENSOR_TOKEN_EXPIRES_AT", environ))
    return SensorTokenState(_optional("ATTUNE_API_TOKEN", environ), parse_expiry(expiry))


class EnvSensorTokenProvider:
    """`ATTUNE_API_TOKEN` (and its expiry variables) as the environment holds them now
    (`environ`: another mapping to read instead of `os.environ`)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ

    def current(self) -> SensorTokenState:
        return _startup_state(self.environ)


class FileSensorTokenProvider:
    """The token state file, re-read on every call (the sensor service replaces it
    atomically on rotation). If it cannot be read, the startup token is used when there
    is one; otherwise the failure is raised with the path in the message."""

    def __init__(self, path: Path, fallback: SensorTokenState) -> None:
        self.path = path
        self.fallback = fallback

    def current(self) -> SensorTokenState:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object {\"token\", \"expires_at\"}")
            token = data.get("token", data.get("api_token"))
            if not isinstance(token, str) or not token.strip():
                raise ValueError("no token: the file needs a non-blank \"token\" string")
            expiry = data.get("expires_at", data.get("token_expires_at"))
            return SensorTokenState(token.strip(), parse_expiry(expiry))
        except (OSError, ValueError) as exc:
            if self.fallback.token:
                return self.fallback
            raise RuntimeError(
                f"Unable to read sensor token state from {self.path}: {exc}") from exc


def _reconnect_window(environ: Mapping[str, str] | None = None) -> float:
    raw = _optional("ATTUNE_SENSOR_TOKEN_RECONNECT_WINDOW_SECONDS", environ)
    if raw is None:
        return DEFAULT_RECONNECT_WINDOW
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_RECONNECT_WINDOW


@dataclass(frozen=True)
class SensorContext:
    """The running sensor: identity, API and notifier URLs, config and current token."""

    sensor_ref: str = ""
    sensor_id: str = "0"
    api_url: str = DEFAULT_API_URL
    api_token: str | None = field(default=None, repr=False)  # a secret: never printed
    notifier_ws_url: str = DEFAULT_NOTIFIER_WS_URL
    allow_insecure_notifier_ws: bool = False
    log_level: str = "INFO"
    pack_ref: str = ""
    token_provider: SensorTokenProvider = field(default_factory=EnvSensorTokenProvider,
                                                compare=False, repr=False)
    token_reconnect_window_seconds: float = DEFAULT_RECONNECT_WINDOW

    @property
    def config(self) -> dict[str, str]:
        """`ATTUNE_SENSOR_CONFIG_<NAME>` variables as `{"<name>": value}`."""
        return {key[len(SENSOR_CONFIG_PREFIX):].lower(): value
                for key, value in os.environ.items()
                if key.startswith(SENSOR_CONFIG_PREFIX) and len(key) > len(SENSOR_CONFIG_PREFIX)}

    @property
    def current_token_state(self) -> SensorTokenState:
        return self.token_provider.current()

    @property
    def current_api_token(self) -> str | None:
        return self.current_token_state.token

    def is_api_token_expiring_within(self, seconds: float | None = None) -> bool:
        window = self.token_reconnect_window_seconds if seconds is None else seconds
        return self.current_token_state.expires_within(window)

    def require_token(self) -> str:
        token = self.current_api_token
        if not token:
            raise RuntimeError(NO_SENSOR_TOKEN)
        return token

    @cached_property
    def _client(self) -> AuthenticatedClient:
        return AuthenticatedClient(self.api_url, self.require_token())

    @property
    def client(self) -> AuthenticatedClient:
        """An API client that always carries the current (possibly rotated) token."""
        client = self._client
        client.token = self.require_token()
        return client


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _build_sensor_context(environ: Mapping[str, str] | None = None) -> SensorContext:
    sensor_ref = _env("ATTUNE_SENSOR_REF", environ=environ)
    parts = sensor_ref.split(".")
    startup = _startup_state(environ)
    state_path = _optional("ATTUNE_SENSOR_TOKEN_STATE_PATH", environ)
    provider: SensorTokenProvider = (FileSensorTokenProvider(Path(state_path), startup)
                                     if state_path else EnvSensorTokenProvider(environ))
    return SensorContext(
        sensor_ref=sensor_ref,
        sensor_id=_env("ATTUNE_SENSOR_ID", "0", environ),
        api_url=_api_url(environ),
        api_token=startup.token,
        notifier_ws_url=(_optional("ATTUNE_NOTIFIER_WS_URL", environ)
                         or DEFAULT_NOTIFIER_WS_URL),
        allow_insecure_notifier_ws=_truthy(_optional("ATTUNE_ALLOW_INSECURE_NOTIFIER_WS",
                                                     environ)),
        log_level=(_optional("ATTUNE_LOG_LEVEL", environ) or "info").upper(),
        pack_ref=parts[0] if len(parts) >= 2 else "",
        token_provider=provider,
        token_reconnect_window_seconds=_reconnect_window(environ))


action_context = _build_action_context()
sensor_context = _build_sensor_context()
