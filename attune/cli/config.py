"""The CLI's own settings: the API it talks to and the tokens of the last login.

Kept in `<user config dir>/attune/config.yaml` (ATTUNE_CONFIG names another file),
readable by its owner only since it holds tokens. Tokens belong to the API URL they
were issued by: pointing the CLI at another API never sends them there.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import yaml

from attune.cli.output import CliError

DEFAULT_API_URL = "http://127.0.0.1:8080"


def config_path() -> Path:
    env = os.environ.get("ATTUNE_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("attune", appauthor=False)) / "config.yaml"


@dataclass
class CliConfig:
    api_url: str | None = None
    login: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None

    @classmethod
    def load(cls) -> CliConfig:
        path = config_path()
        try:
            raw: Any = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, yaml.YAMLError) as exc:
            raise CliError(f"cannot read {path}: {exc} (fix or delete the file)") from None
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise CliError(f"{path} must hold a mapping (fix or delete the file)")
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in raw.items() if k in known and v is not None})

    def save(self) -> Path:
        """Write atomically with mode 0600 (the directory 0700)."""
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = yaml.safe_dump({k: v for k, v in asdict(self).items() if v is not None},
                              sort_keys=False)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:  # mkstemp creates the file with mode 0600
                out.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def tokens_for(self, api_url: str) -> tuple[str | None, str | None]:
        if self.api_url is None or normalize_url(self.api_url) != api_url:
            return None, None
        return self.access_token, self.refresh_token

    def forget_tokens(self) -> None:
        self.login = self.access_token = self.refresh_token = None


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"API URL {url!r} is not valid: use http://HOST:PORT "
                       "(for example http://127.0.0.1:8080)")
    return url


def resolve_api_url(flag: str | None, config: CliConfig) -> str:
    """--api-url, else ATTUNE_API_URL, else the URL of the last login, else the default."""
    return normalize_url(flag or os.environ.get("ATTUNE_API_URL") or config.api_url
                         or DEFAULT_API_URL)
