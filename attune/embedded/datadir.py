"""The data directory of the embedded default: one folder holds everything `attune up`
keeps between runs.

    <data-dir>/
      attune.lock           held (flock) by the running `attune up`; its pid inside
      secrets/              0700; jwt_secret, encryption_key (0600), generated once;
                            encryption_key.previous: older keys, one a line, still read
      nats/                 nats-server.conf, .pid, .log and jetstream/ (the streams)
      postgres/data/        the PostgreSQL cluster; postgres/postgres.log beside it
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from attune.errors import BadRequestError, ConflictError

#: secrets.token_urlsafe(48) gives 64 characters, above the 32 the settings require
_SECRET_BYTES = 48


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def nats_dir(self) -> Path:
        return self.root / "nats"

    @property
    def postgres_dir(self) -> Path:
        return self.root / "postgres" / "data"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def lock_file(self) -> Path:
        return self.root / "attune.lock"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory for this process, so a second `attune up` on the same data
        cannot take the first one's servers for stale ones and stop them. The kernel
        drops the lock when the process dies, however it dies."""
        self.create()
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise ConflictError(
                    f"another `attune up` (pid {holder}) is using {self.root}; stop it "
                    "first or choose another --data-dir") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)

    def secret(self, name: str) -> str:
        """The secret kept in `secrets/<name>`, generated on first use (0600)."""
        self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.secrets_dir / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            kept = path.read_text().strip()
            if len(kept) < 32:
                raise BadRequestError(
                    f"{path} holds no usable secret (under 32 characters): restore it, or "
                    "delete it to generate a new one (tokens and encrypted values made "
                    "with the old one stop working)"
                ) from None
            return kept
        value = secrets.token_urlsafe(_SECRET_BYTES)
        with os.fdopen(fd, "w") as out:
            out.write(value + "\n")
        return value

    def previous_secrets(self, name: str) -> tuple[str, ...]:
        """Older values of the secret `name` (`secrets/<name>.previous`, one a line),
        kept so what they sealed stays readable until re-sealed."""
        path = self.secrets_dir / f"{name}.previous"
        if not path.is_file():
            return ()
        return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())

    def replace_secret(self, name: str) -> str:
        """Generate a new value for the secret `name`, moving the current one to the top
        of `<name>.previous`. Returns the new value."""
        current = self.secret(name)
        previous = self.secrets_dir / f"{name}.previous"
        kept = [current, *self.previous_secrets(name)]
        fd = os.open(previous, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{k}\n" for k in kept))
        value = secrets.token_urlsafe(_SECRET_BYTES)
        path = self.secrets_dir / name
        fd = os.open(path.with_suffix(".new"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(value + "\n")
        os.replace(path.with_suffix(".new"), path)
        return value
