"""`attune replay rebuild|verify`: read models rebuilt from, and checked against, the
event stream while the system runs."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import click
from nats.aio.client import Client
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import attune.log as log
from attune.config import from_env
from attune.embedded.datadir import DataDir
from attune.embedded.stack import DATABASE
from attune.errors import AttuneError
from attune.eventstore.connection import connect
from attune.readmodel import db
from attune.readmodel.projection import Projection
from attune.readmodel.projections import ALL, by_name
from attune.readmodel.rebuild import RebuildReport, rebuild
from attune.readmodel.verify import TableDiff, VerifyReport, verify

_err = Console(stderr=True)
_out = Console(soft_wrap=True)


@dataclass
class Servers:
    nc: Client
    pool: asyncpg.Pool


def server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--database-url", envvar="ATTUNE_DATABASE_URL", metavar="URL",
                     help="PostgreSQL of the read models [env ATTUNE_DATABASE_URL]")(f)
    return click.option("--nats-url", envvar="ATTUNE_NATS_URL", metavar="URL",
                        help="NATS with the ATTUNE_EVENTS stream [env ATTUNE_NATS_URL]")(f)


def resolve_urls(nats_url: str | None, database_url: str | None) -> tuple[str, str]:
    """The flags or environment, else the servers of a running `attune up`."""
    if nats_url and database_url:
        return nats_url, database_url
    if not nats_url and not database_url:
        found = embedded_urls(DataDir(from_env().data_dir))
        if found is not None:
            return found
    raise click.UsageError(
        "where are the servers? set ATTUNE_NATS_URL and ATTUNE_DATABASE_URL (or pass "
        "--nats-url and --database-url), or start `attune up` (ATTUNE_DATA_DIR chooses "
        "its data directory)")


def embedded_urls(data: DataDir) -> tuple[str, str] | None:
    """URLs of the servers of the `attune up` running on `data`, read from the files
    the servers write at every start; None when none runs there."""
    try:
        fd = os.open(data.lock_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # held: `attune up` runs
    else:
        return None
    finally:
        os.close(fd)
    try:
        conf = (data.nats_dir / "nats-server.conf").read_text()
        pid_lines = (data.postgres_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    listen = re.search(r"^listen:\s*([\w.:\[\]-]+?):(\d+)\s*$", conf, re.MULTILINE)
    if listen is None or len(pid_lines) < 4 or not pid_lines[3].strip().isdigit():
        return None
    return (f"nats://{listen.group(1)}:{listen.group(2)}",
            f"postgresql://postgres@127.0.0.1:{pid_lines[3].strip()}/{DATABASE}")


@contextlib.asynccontextmanager
async def servers(nats_url: str, database_url: str) -> AsyncIterator[Servers]:
    nc = await connect(nats_url, name="attune-replay", timeout=10)
    try:
        pool = await db.create_pool(database_url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await db.migrate(conn)
            yield Servers(nc, pool)
        finally:
            await pool.close()
    finally:
        await nc.close()


def _projections(name: str | None) -> list[Projection]:
    if name is None:
        return list(ALL)
    try:
        return [by_name(name)]
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="PROJECTION") from None


@contextlib.contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over stream sequences on stderr (nothing when quiet)."""
    if quiet:
        yield lambda seq, target: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(seq: int, target: int) -> None:
            bar.update(task, completed=seq, total=target)

        yield update


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except AttuneError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def replay() -> None:
    """Rebuild read models from the event stream, or verify them against it."""
    # Logs go to stderr, so stdout stays the report (and --json stays parseable).
    log.configure(os.environ.get("ATTUNE_LOG_LEVEL", "error"), json=False)


@replay.command("rebuild")
@click.argument("projection", required=False)
@server_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def rebuild_command(projection: str | None, nats_url: str | None, database_url: str | None,
                    as_json: bool, quiet: bool) -> None:
    """Rebuild PROJECTION (default: every one) from ATTUNE_EVENTS, in one transaction,
    while the system runs. Readers see the old rows until it commits."""
    chosen = _projections(projection)
    urls = resolve_urls(nats_url, database_url)

    async def main() -> RebuildReport:
        async with servers(*urls) as s:
            with _progress("rebuilding", quiet or as_json) as progress:
                return await rebuild(s.nc, s.pool, chosen, progress=progress)

    report: RebuildReport = _run(main())
    if as_json:
        click.echo(json.dumps({"projections": report.projections, "events": report.events,
                               "position": report.position, "rows": report.rows,
                               "seconds": round(report.seconds, 3)}, sort_keys=True))
        return
    rows = ", ".join(f"{t} {n}" for t, n in report.rows.items())
    _out.print(f"rebuilt {', '.join(report.projections)}: {report.events} events read up to "
               f"sequence {report.position} in {report.seconds:.2f} s; rows: {rows}")


@replay.command("verify")
@server_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="Differing rows shown per table.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def verify_command(nats_url: str | None, database_url: str | None, limit: int, as_json: bool,
                   quiet: bool) -> None:
    """Rebuild every projection into a scratch schema (rolled back afterwards) and report
    rows that differ from the live tables. Exit code 0 when equal, 1 when not."""
    urls = resolve_urls(nats_url, database_url)

    async def main() -> VerifyReport:
        async with servers(*urls) as s:
            with _progress("verifying", quiet or as_json) as progress:
                return await verify(s.nc, s.pool, ALL, limit=limit, progress=progress)

    report: VerifyReport = _run(main())
    if as_json:
        click.echo(json.dumps(_report_json(report), sort_keys=True, default=str))
    else:
        _print_report(report)
    if not report.equal:
        raise SystemExit(1)


def _report_json(report: VerifyReport) -> dict[str, Any]:
    return {"equal": report.equal, "positions": report.positions, "events": report.events,
            "rows": report.rows, "seconds": round(report.seconds, 3),
            "differences": [{"table": d.table, "key": d.key, "live_only": d.live_only,
                             "rebuilt_only": d.rebuilt_only, "missing": d.missing,
                             "extra": d.extra,
                             "changed": [{"live": a, "rebuilt": b} for a, b in d.changed]}
                            for d in report.diffs]}


def _print_report(report: VerifyReport) -> None:
    positions = ", ".join(f"{n} @{p}" for n, p in sorted(report.positions.items()))
    _out.print(f"verified {positions}: {report.events} events replayed in "
               f"{report.seconds:.2f} s")
    for table, count in report.rows.items():
        diff = next((d for d in report.diffs if d.table == table), None)
        state = "equal" if diff is None else (
            f"DIFFERENT ({diff.live_only} live rows and {diff.rebuilt_only} rebuilt rows "
            "without a match)")
        _out.print(f"  {table}: {count} rows, {state}")
    for diff in report.diffs:
        _print_diff(diff)
    _out.print("read models equal the stream" if report.equal
               else "read models differ from the stream: `attune replay rebuild` fixes them")


def _key(diff: TableDiff, row: dict[str, Any]) -> str:
    return ", ".join(f"{c}={row[c]}" for c in diff.key)


def _print_diff(diff: TableDiff) -> None:
    _out.print(f"[bold]{diff.table}[/bold] (key {', '.join(diff.key)}):", highlight=False)
    for row in diff.missing:
        _out.print(f"  missing in live: {_key(diff, row)}", highlight=False, markup=False)
    for row in diff.extra:
        _out.print(f"  not in rebuild:  {_key(diff, row)}", highlight=False, markup=False)
    for live, rebuilt in diff.changed:
        cols = _changed_columns(live, rebuilt)
        detail = "; ".join(f"{c}: live {live[c]!r} != rebuilt {rebuilt[c]!r}" for c in cols)
        _out.print(f"  changed {_key(diff, live)}: {detail}", highlight=False, markup=False)


def _changed_columns(live: dict[str, Any], rebuilt: dict[str, Any]) -> Sequence[str]:
    return [c for c in live if live[c] != rebuilt.get(c)]
