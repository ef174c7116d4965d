"""`attune bench pipeline`: how fast JetStream is here, and how much of it the
execution pipeline turns into executions."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

import attune.log as log
from attune.bench import notifier as notifier_bench
from attune.bench import pipeline as pipeline_bench
from attune.bench import rules as rules_bench
from attune.bench import runtimes as runtimes_bench
from attune.bench import workflows as workflows_bench
from attune.bench.progress import Silent
from attune.errors import AttuneError

F = TypeVar("F", bound=Callable[..., Any])

_err = Console(stderr=True)


class BarProgress:
    """One rich progress bar per phase, on stderr."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def phase(self, name: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total)
        self.task = self.bar.add_task(name, total=total)

    def update(self, done: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=done)


@contextmanager
def _progress(quiet: bool) -> Iterator[BarProgress | Silent]:
    if quiet:
        yield Silent()
        return
    columns = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=_err) as bar:
        yield BarProgress(bar)


def _run(bench_run: Callable[[BarProgress | Silent], Coroutine[Any, Any, dict[str, Any]]], *,
         quiet: bool, output: str, render: Callable[[dict[str, Any]], Table]) -> None:
    """Run one benchmark with progress bars (unless quiet) and print its report."""
    log.configure(os.environ.get("ATTUNE_LOG_LEVEL", "error"), json=False)
    try:
        with _progress(quiet) as progress:
            report = asyncio.run(bench_run(progress))
    except AttuneError as exc:
        raise click.ClickException(str(exc)) from exc
    if output == "json":
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        Console().print(render(report))


def _table(title: str, report: dict[str, Any]) -> Table:
    """A report table captioned with the machine and the servers' durability settings."""
    machine = report["machine"]
    table = Table(title=title, title_justify="left",
                  caption=f"{machine['cpus']} CPUs, {machine['system']}, Python "
                          f"{machine['python']}; {report['servers']['durability']}",
                  caption_justify="left")
    table.add_column("measure")
    table.add_column("value")
    return table


def common_options(command: F) -> F:
    """The options every benchmark takes: worker concurrency, external servers, output."""
    for option in reversed([
        click.option("--worker-concurrency", default=16, show_default=True,
                     type=click.IntRange(min=1), help="Actions the worker runs at once."),
        click.option("--nats-url", envvar="ATTUNE_BENCH_NATS_URL", metavar="URL",
                     help="Use this NATS instead of starting one "
                          "[env ATTUNE_BENCH_NATS_URL]."),
        click.option("--database-url", envvar="ATTUNE_BENCH_DATABASE_URL", metavar="URL",
                     help="Use this PostgreSQL instead of starting one "
                          "[env ATTUNE_BENCH_DATABASE_URL]."),
        click.option("--output", "-o", type=click.Choice(["table", "json"]),
                     default="table", show_default=True),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars."),
    ]):
        command = option(command)
    return command


@click.group()
def bench() -> None:
    """Benchmarks of this machine and of Attune on it."""


@bench.command("runtimes")
@click.option("--samples", "-n", default=200, show_default=True, type=click.IntRange(min=10),
              help="Empty actions run one at a time per runtime (p50/p99).")
@click.option("--executions", default=400, show_default=True, type=click.IntRange(min=1),
              help="Empty actions per runtime for the executions/s measure.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(min=1),
              help="Actions in flight for the executions/s measure.")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def runtimes(samples: int, executions: int, concurrency: int, output: str,
             quiet: bool) -> None:
    """Measure the worker's dispatch overhead per runtime: an empty shell action, an empty
    Python action started cold and forked from the warm pool — p50/p99 one at a time, and
    executions/s with CONCURRENCY in flight. Needs no servers."""
    options = runtimes_bench.Options(samples=samples, executions=executions,
                                     concurrency=concurrency)
    _run(lambda progress: runtimes_bench.run_bench(options, progress), quiet=quiet,
         output=output, render=render_runtimes)


def render_runtimes(report: dict[str, Any]) -> Table:
    machine, target = report["machine"], report["target"]
    table = Table(title="attune bench runtimes (dispatch overhead of an empty action)",
                  title_justify="left", caption_justify="left",
                  caption=f"{machine['cpus']} CPUs (load {machine['load_average_1m']:.1f}), "
                          f"{machine['system']}, Python {machine['python']}; "
                          f"target warm Python p50 <= "
                          f"{target['warm_python_p50_ms']:g} ms: "
                          f"{'met' if target['met'] else 'NOT met'}")
    for header in ("runtime", "p50", "p99", "executions/s"):
        table.add_column(header, justify="left" if header == "runtime" else "right")
    for name, row in report["runtimes"].items():
        table.add_row(name, f"{row['p50_ms']:.2f} ms", f"{row['p99_ms']:.2f} ms",
                      f"{row['executions_per_s']:,.0f} ({row['concurrency']} in flight)")
    return table


@bench.command("pipeline")
@click.option("--executions", "-n", default=1000, show_default=True,
              type=click.IntRange(min=1), help="Executions submitted at saturation.")
@click.option("--concurrency", default=64, show_default=True, type=click.IntRange(min=1),
              help="Requests in flight at saturation.")
@click.option("--rate", default=20.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Requests per second for the latency measurement.")
@click.option("--duration", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds of the latency measurement.")
@click.option("--raw-messages", default=20000, show_default=True,
              type=click.IntRange(min=100), help="Messages of the raw JetStream measurement.")
@common_options
def pipeline(executions: int, concurrency: int, rate: float, duration: float,
             raw_messages: int, worker_concurrency: int, nats_url: str | None,
             database_url: str | None, output: str, quiet: bool) -> None:
    """Measure raw JetStream (publish and consume with acks) and the manual-execution
    pipeline with core.noop (executions/s at saturation, request->completed latency at
    a fixed rate), and the ratio of the pipeline's JetStream appends/s to raw publishes/s.

    Starts its own NATS and PostgreSQL in a temporary directory (durable settings as
    `attune up`) unless --nats-url and --database-url are given; the platform runs in
    this process.
    """
    options = pipeline_bench.Options(executions=executions, concurrency=concurrency, rate=rate,
                                     duration=duration, raw_messages=raw_messages,
                                     worker_concurrency=worker_concurrency, nats_url=nats_url,
                                     database_url=database_url)
    _run(lambda progress: pipeline_bench.run(options, progress), quiet=quiet, output=output,
         render=render)


def render(report: dict[str, Any]) -> Table:
    raw, sat, lat = report["raw_jetstream"], report["saturation"], report["latency"]
    table = _table("attune bench pipeline", report)
    rows: list[tuple[str, str]] = [
        ("(a) raw JetStream publish, pipelined, acked",
         f"{raw['publish_msgs_per_s']:,.0f} msgs/s ({raw['payload_bytes']} B bodies)"),
        ("(a) raw durable pull consume, acked", f"{raw['consume_msgs_per_s']:,.0f} msgs/s"),
        ("(b) executions/s at saturation",
         f"{sat['executions_per_s']:,.1f}/s ({sat['executions']} in {sat['seconds']:.2f} s, "
         f"{sat['concurrency']} requests in flight)"),
        ("(b) JetStream appends per execution", f"{sat['appends_per_execution']:g}"),
        ("(b) JetStream appends/s at saturation", f"{sat['appends_per_s']:,.0f} msgs/s"),
        ("(b) ratio to (a) publish", f"{100 * report['ratio_appends_to_raw_publish']:.1f} %"),
        (f"(b) request->completed at {lat['rate_per_s']:g}/s",
         f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms "
         f"({lat['executions']} executions)"),
        ("(b) HTTP response (read-your-writes)",
         f"p50 {lat['http_p50_ms']:.1f} ms, p99 {lat['http_p99_ms']:.1f} ms"),
        ("(b) read model behind the last completion",
         f"{1000 * sat['projection_lag_after_last_s']:.0f} ms"),
        ("(b) outcomes", f"saturation: {_outcomes(sat['outcomes'])}; "
                         f"fixed rate: {_outcomes(lat['outcomes'])}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(outcomes.items()))


@bench.command("rules")
@click.option("--rules", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Enabled rules (spread evenly over the triggers).")
@click.option("--triggers", default=100, show_default=True, type=click.IntRange(min=1),
              help="Triggers the rules are on.")
@click.option("--events", "-n", default=20000, show_default=True,
              type=click.IntRange(min=1), help="Events appended for the throughput measure.")
@click.option("--rate", default=100.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Webhook posts per second for the latency measure.")
@click.option("--duration", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds of the latency measure.")
@common_options
def rules(rules: int, triggers: int, events: int, rate: float, duration: float,
          worker_concurrency: int, nats_url: str | None, database_url: str | None,
          output: str, quiet: bool) -> None:
    """Measure the rule pipeline with many rules (each event matches one rule of its
    trigger, core.noop): events/s matched and enforced by one executor process, and
    webhook POST -> execution started latency at a fixed rate through the HTTP API.

    Starts its own NATS and PostgreSQL unless --nats-url and --database-url are given;
    the services run in this process.
    """
    if triggers > rules:
        raise click.BadParameter(f"{triggers} triggers need at least as many rules",
                                 param_hint="--rules")
    options = rules_bench.Options(rules=rules, triggers=triggers, events=events, rate=rate,
                                  duration=duration, worker_concurrency=worker_concurrency,
                                  nats_url=nats_url, database_url=database_url)
    _run(lambda progress: rules_bench.run(options, progress), quiet=quiet, output=output,
         render=render_rules)


def render_rules(report: dict[str, Any]) -> Table:
    setup, rate, lat = report["rules"], report["throughput"], report["webhook_latency"]
    table = _table("attune bench rules", report)
    rows: list[tuple[str, str]] = [
        ("rules", f"{setup['rules']:,} enabled on {setup['triggers']} triggers "
                  f"({setup['rules_per_trigger']} each, 1 matches per event), "
                  f"{setup['action']}"),
        ("(a) events appended (pipelined)",
         f"{rate['events']:,} in {rate['append_seconds']:.2f} s "
         f"({rate['appends_per_s']:,.0f}/s)"),
        ("(a) events/s matched and enforced, one executor",
         f"{rate['events_per_s']:,.0f}/s ({rate['seconds']:.2f} s to the last resolution)"),
        ("(a) enforcements/s resolved", f"{rate['enforcements_per_s']:,.0f}/s"),
        ("(a) events per CPU-second of the process (executor + appender)",
         f"{rate['events_per_cpu_s']:,.0f} ({rate['cpu_seconds']:.2f} CPU-s)"),
        (f"(b) webhook -> running at {lat['rate_per_s']:g}/s",
         f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms "
         f"({lat['events']} events)"),
        ("(b) webhook HTTP response",
         f"p50 {lat['http_p50_ms']:.1f} ms, p99 {lat['http_p99_ms']:.1f} ms"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@bench.command("notifier")
@click.option("--clients", "-c", default=500, show_default=True, type=click.IntRange(min=1),
              help="WebSocket clients, each subscribed to every execution.")
@click.option("--rate", default=200.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Notifications per second (execution requests appended).")
@click.option("--duration", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds of the measured window.")
@common_options
def notifier(clients: int, rate: float, duration: float, worker_concurrency: int,
             nats_url: str | None, database_url: str | None, output: str,
             quiet: bool) -> None:
    """Measure the notifier: CLIENTS WebSocket clients subscribed to executions while
    RATE notifications per second flow; delivery latency p50/p99 (append -> frame read
    by the client) and the notifier's CPU time per 1,000 deliveries.

    The notifier runs alone in a child process (`attune serve notifier`), the clients in
    another, the load in this one (no worker runs: --worker-concurrency is unused).
    Starts its own NATS and PostgreSQL unless --nats-url and --database-url are given.
    """
    options = notifier_bench.Options(clients=clients, rate=rate, duration=duration,
                                     nats_url=nats_url, database_url=database_url)
    _run(lambda progress: notifier_bench.run(options, progress), quiet=quiet, output=output,
         render=render_notifier)


def render_notifier(report: dict[str, Any]) -> Table:
    setup, got, lat, cpu = (report["setup"], report["deliveries"], report["latency"],
                            report["cpu"])
    table = _table("attune bench notifier", report)

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} ms"

    per_1000 = cpu["notifier_ms_per_1000_deliveries"]
    rows: list[tuple[str, str]] = [
        ("clients", f"{setup['clients']} WebSockets, filter {setup['filter']}"),
        ("load", f"{setup['notifications']:,} {setup['notification']} at "
                 f"{setup['rate_per_s']:g}/s for {setup['seconds']:g} s "
                 f"(sent at {setup['sent_per_s']:,.0f}/s)"),
        ("deliveries", f"{got['measured']:,} of {got['expected']:,} "
                       f"({got['per_s']:,.0f}/s; resyncs: {got['resyncs']})"),
        ("delivery latency", f"p50 {ms(lat['p50_ms'])}, p99 {ms(lat['p99_ms'])}, "
                             f"max {ms(lat['max_ms'])}"),
        ("notifier CPU per 1,000 deliveries",
         "n/a" if per_1000 is None else f"{per_1000:.1f} ms "
         f"({cpu['notifier_cores_busy']:.2f} cores busy)"),
        ("clients process CPU", "n/a" if cpu["clients_seconds"] is None
         else f"{cpu['clients_seconds']:.1f} s"),
        ("host load average (1 min, at the end)",
         f"{report['machine']['load_average_1min']:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@bench.command("workflows")
@click.option("--chain", default=200, show_default=True, type=click.IntRange(min=2, max=1000),
              help="Noop tasks in the chain whose transitions are timed.")
@click.option("--small", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Items of the smaller with_items run.")
@click.option("--large", default=10000, show_default=True, type=click.IntRange(min=1),
              help="Items of the larger with_items run.")
@click.option("--concurrency", default=50, show_default=True, type=click.IntRange(min=1),
              help="with_items children in flight.")
@click.option("--nats-url", envvar="ATTUNE_BENCH_NATS_URL", metavar="URL",
              help="Use this NATS instead of starting one [env ATTUNE_BENCH_NATS_URL].")
@click.option("--database-url", envvar="ATTUNE_BENCH_DATABASE_URL", metavar="URL",
              help="Use this PostgreSQL instead of starting one "
                   "[env ATTUNE_BENCH_DATABASE_URL].")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def workflows(chain: int, small: int, large: int, concurrency: int, nats_url: str | None,
              database_url: str | None, output: str, quiet: bool) -> None:
    """Measure workflow orchestration on the running executor: the per-task transition
    overhead of a chain of noop tasks (p50, target <= 2 ms), and with_items over SMALL
    and LARGE noop items (per-item time; linear when the ratio is <= 1.2). Children are
    completed by an in-process instant worker, so no process start-up is counted."""
    options = workflows_bench.Options(chain=chain, small=small, large=large,
                                      concurrency=concurrency, nats_url=nats_url,
                                      database_url=database_url)
    _run(lambda progress: workflows_bench.run(options, progress), quiet=quiet, output=output,
         render=render_workflows)


def render_workflows(report: dict[str, Any]) -> Table:
    chain, items = report["transition"], report["with_items"]
    small, large = items["small"], items["large"]
    table = _table("attune bench workflows", report)
    rows = [
        ("children", report["children"]),
        (f"transition overhead ({chain['transitions']} noop transitions)",
         f"p50 {chain['p50_ms']:.2f} ms, p99 {chain['p99_ms']:.2f} ms (target p50 <= "
         f"{chain['target_p50_ms']:g} ms: {'met' if chain['met'] else 'NOT met'})"),
        (f"with_items {small['items']:,} items ({small['concurrency']} in flight)",
         f"{small['seconds']:.2f} s, {small['per_item_ms']:.3f} ms/item"),
        (f"with_items {large['items']:,} items ({large['concurrency']} in flight)",
         f"{large['seconds']:.2f} s, {large['per_item_ms']:.3f} ms/item"),
        ("per-item ratio large/small",
         f"{items['ratio']:.2f} (target <= {items['target_ratio']:g}: "
         f"{'met' if items['met'] else 'NOT met'})"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
