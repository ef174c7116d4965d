"""`attune` — the command line. Subcommands live one module each in this folder and
are imported only when used, so `attune --help` stays fast."""

from __future__ import annotations

import importlib
import sys

import click

# name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "up": "attune.cli.up:up",
    "serve": "attune.cli.serve:serve",
    "streams": "attune.cli.streams:streams",
    "login": "attune.cli.auth:login",
    "logout": "attune.cli.auth:logout",
    "whoami": "attune.cli.auth:whoami",
    "run": "attune.cli.run:run",
    "execution": "attune.cli.execution:execution",
    "pack": "attune.cli.pack:pack",
    "action": "attune.cli.action:action",
    "replay": "attune.cli.replay:replay",
    "schemas": "attune.cli.schemas:schemas",
    "bench": "attune.cli.bench:bench",
    "trigger": "attune.cli.trigger:trigger",
    "webhook": "attune.cli.webhook:webhook",
    "event": "attune.cli.event:event",
    "rule": "attune.cli.rule:rule",
    "enforcement": "attune.cli.enforcement:enforcement",
    "policy": "attune.cli.policy:policy",
    "watch": "attune.cli.watch:watch",
    "key": "attune.cli.key:key",
    "keys": "attune.cli.key:key",
    "identity": "attune.cli.identity:identity",
    "permission-set": "attune.cli.identity:permission_set",
    "token-login": "attune.cli.identity:token_login",
    "worker": "attune.cli.worker:worker",
    "runtime": "attune.cli.runtime:runtime",
    "artifact": "attune.cli.artifact:artifact",
    "audit": "attune.cli.audit:audit",
    "history": "attune.cli.history:history",
    "sensor": "attune.cli.sensor:sensor",
    "workflow": "attune.cli.workflow:workflow",
    "inquiry": "attune.cli.inquiry:inquiry",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="attune")
def cli() -> None:
    """Attune: event-driven automation on NATS JetStream and PostgreSQL.

    Start everything on this machine with `attune up`, log in with
    `attune login`, then `attune run core.echo message=hi --watch`.
    """


def main() -> None:
    sys.exit(cli.main(prog_name="attune", standalone_mode=True))
