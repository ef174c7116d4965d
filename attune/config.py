"""Settings from the environment (and `attune up` flags), one frozen object passed around.

    ATTUNE_NATS_URL / ATTUNE_DATABASE_URL   external servers; unset = embedded (attune up)
    ATTUNE_DATA_DIR                         data directory of the embedded default
    ATTUNE_API_HOST / ATTUNE_API_PORT       HTTP API (default 127.0.0.1:8080)
    ATTUNE_NOTIFIER_PORT                    WebSocket notifier (default 8081)
    ATTUNE_JWT_SECRET                       HS256 secret (>= 32 chars); embedded: generated, kept
    ATTUNE_ENCRYPTION_KEY                   AES-256-GCM key material (>= 32 chars); same
    ATTUNE_PREVIOUS_ENCRYPTION_KEYS         older key materials, comma-separated: values
                                            sealed with them stay readable until
                                            `attune key rotate-encryption-key` re-seals them
    ATTUNE_ALLOW_REGISTRATION               true: anyone may POST /auth/register (false)
    ATTUNE_ADMIN_PASSWORD                   admin password on first start; else generated
    ATTUNE_API_URL                          URL actions and the CLI use to reach the API
    ATTUNE_WORKER_CONCURRENCY               actions run at once per worker process (default 16)
    ATTUNE_ABANDONED_RETRIES                re-runs of an execution its lost worker abandoned (0)
    ATTUNE_OUTPUT_CAP_BYTES                 action output kept per stream (default 10 MB)
    ATTUNE_WORKER_LABELS                    labels a worker advertises: k=v,k2=v2 (placement)
    ATTUNE_RUNTIME_ENVS_DIR                 pack environments (venvs, node_modules); default
                                            <data dir>/runtime_envs
    ATTUNE_WARM_PYTHON                      1 (default): Python actions fork from a warm pool
    ATTUNE_LOG_LEVEL / ATTUNE_LOG_FORMAT    info|debug|warning, json|console
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from attune.errors import BadRequestError


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("attune", appauthor=False))


@dataclass(frozen=True)
class Settings:
    nats_url: str | None = None
    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    notifier_port: int = 8081
    nats_port: int = 4222
    postgres_port: int = 5432
    jwt_secret: str = ""
    encryption_key: str = ""
    previous_encryption_keys: tuple[str, ...] = ()
    allow_registration: bool = False
    admin_password: str | None = None
    api_url: str | None = None
    worker_concurrency: int = 16
    #: Workers write a heartbeat this often; silent for `worker_stale_seconds`, their
    #: running executions end `abandoned`.
    heartbeat_seconds: float = 10.0
    worker_stale_seconds: float = 30.0
    #: An execution abandoned by a lost worker is run again up to this many times.
    abandoned_retries: int = 0
    worker_name: str | None = None
    #: Bytes of stdout (and of stderr) kept and streamed per execution; the rest is dropped.
    output_cap_bytes: int = 10 * 1024 * 1024
    #: What this worker offers to placement constraints (`placement: {labels: ...}`).
    worker_labels: dict[str, str] = field(default_factory=dict)
    #: Python actions fork from pre-started interpreters instead of starting one each.
    #: Opt-in for now: a warm child printing a large result once hung in CI (not
    #: understood yet); cold starts are the safe default.
    warm_python: bool = False
    #: Where workers build pack environments; None = `<data_dir>/runtime_envs`.
    runtime_envs_dir: Path | None = None
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 7 * 24 * 3600
    default_timeout_seconds: int = 600
    max_body_bytes: int = 1024 * 1024
    log_level: str = "info"
    log_format: str = "json"
    nats_sync_interval: str = "1s"

    @property
    def embedded(self) -> bool:
        return self.nats_url is None and self.database_url is None

    @property
    def envs_dir(self) -> Path:
        """Where workers build pack environments (ATTUNE_RUNTIME_ENVS_DIR)."""
        return self.runtime_envs_dir or self.data_dir / "runtime_envs"

    @property
    def public_api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return self.api_url or f"http://{host}:{self.api_port}"

    @property
    def public_notifier_url(self) -> str:
        """The notifier's WebSocket as clients (the CLI, sensors) reach it."""
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return f"ws://{host}:{self.notifier_port}/ws"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def check_secrets(self) -> None:
        if len(self.jwt_secret) < 32:
            raise BadRequestError("ATTUNE_JWT_SECRET must be at least 32 characters")
        if len(self.encryption_key) < 32:
            raise BadRequestError("ATTUNE_ENCRYPTION_KEY must be at least 32 characters")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequestError(f"{name} must be an integer, got {raw!r}") from None


def _labels(raw: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadRequestError(f"ATTUNE_WORKER_LABELS must be name=value pairs separated "
                                  f"by commas, got {item!r}")
        labels[name.strip()] = value.strip()
    return labels


def from_env() -> Settings:
    env = os.environ.get
    data_dir = env("ATTUNE_DATA_DIR")
    return Settings(
        nats_url=env("ATTUNE_NATS_URL") or None,
        database_url=env("ATTUNE_DATABASE_URL") or None,
        data_dir=Path(data_dir) if data_dir else default_data_dir(),
        api_host=env("ATTUNE_API_HOST", "127.0.0.1"),
        api_port=_int("ATTUNE_API_PORT", 8080),
        notifier_port=_int("ATTUNE_NOTIFIER_PORT", 8081),
        nats_port=_int("ATTUNE_NATS_PORT", 4222),
        postgres_port=_int("ATTUNE_POSTGRES_PORT", 5432),
        jwt_secret=env("ATTUNE_JWT_SECRET", ""),
        encryption_key=env("ATTUNE_ENCRYPTION_KEY", ""),
        previous_encryption_keys=tuple(
            k.strip() for k in env("ATTUNE_PREVIOUS_ENCRYPTION_KEYS", "").split(",")
            if k.strip()),
        allow_registration=env("ATTUNE_ALLOW_REGISTRATION", "").lower() in ("1", "true",
                                                                            "yes"),
        admin_password=env("ATTUNE_ADMIN_PASSWORD") or None,
        api_url=env("ATTUNE_API_URL") or None,
        worker_concurrency=_int("ATTUNE_WORKER_CONCURRENCY", 16),
        worker_name=env("ATTUNE_WORKER_NAME") or None,
        output_cap_bytes=_int("ATTUNE_OUTPUT_CAP_BYTES", 10 * 1024 * 1024),
        worker_labels=_labels(env("ATTUNE_WORKER_LABELS", "")),
        warm_python=env("ATTUNE_WARM_PYTHON", "0") not in ("0", "false", "no"),
        runtime_envs_dir=Path(env("ATTUNE_RUNTIME_ENVS_DIR", "")) if env(
            "ATTUNE_RUNTIME_ENVS_DIR") else None,
        heartbeat_seconds=float(_int("ATTUNE_HEARTBEAT_SECONDS", 10)),
        worker_stale_seconds=float(_int("ATTUNE_WORKER_STALE_SECONDS", 30)),
        abandoned_retries=_int("ATTUNE_ABANDONED_RETRIES", 0),
        log_level=env("ATTUNE_LOG_LEVEL", "info"),
        log_format=env("ATTUNE_LOG_FORMAT", "json"),
        nats_sync_interval=env("ATTUNE_NATS_SYNC_INTERVAL", "1s"),
    )
