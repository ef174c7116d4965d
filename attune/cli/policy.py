"""`attune policy list|show|create|update|enable|disable|delete`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.components import add_lifecycle
from attune.cli.output import (
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

F = TypeVar("F", bound=Callable[..., Any])


def target(policy: dict[str, Any]) -> str:
    if policy.get("action_ref"):
        return f"action {policy['action_ref']}"
    return f"pack {policy.get('target_pack_ref')}"


def limits(policy: dict[str, Any]) -> str:
    parts = []
    concurrency = policy.get("concurrency")
    if isinstance(concurrency, dict):
        groups = concurrency.get("parameters") or []
        per = f" per {','.join(groups)}" if groups else ""
        parts.append(f"{concurrency.get('limit')} at once{per} ({concurrency.get('method')})")
    rate = policy.get("rate_limit")
    if isinstance(rate, dict):
        parts.append(f"{rate.get('max_executions')} per {rate.get('window_seconds')}s")
    return "; ".join(parts)


POLICY_COLUMNS = [
    Column.key("REF", "ref"),
    Column("TARGET", target),
    Column("LIMITS", limits),
    Column.key("PRIORITY", "priority"),
    Column.key("ENABLED", "enabled"),
    Column.key("EFFECTIVE", "effective"),
    Column.key("SOURCE", "source"),
]


def show_policy(policy: dict[str, Any]) -> None:
    emit_fields([(name, value) for name, value in (
        ("Ref", policy.get("ref")), ("Pack", policy.get("pack_ref")),
        ("Label", policy.get("label")), ("Description", policy.get("description")),
        ("Enabled", policy.get("enabled")), ("Priority", policy.get("priority")),
        ("Applies to", target(policy)), ("Concurrency", policy.get("concurrency")),
        ("Rate limit", policy.get("rate_limit")), ("Source", policy.get("source")),
        ("Tags", policy.get("tags")), ("Updated", policy.get("updated")))
        if value not in (None, "", [], {})], title=f"Policy {policy.get('ref')}")


def limit_options(func: F) -> F:
    """The options create and update share: target, limits, priority, texts."""
    for option in reversed([
        click.option("--action", "action_ref", metavar="REF",
                     help="The action it limits."),
        click.option("--pack", "pack_ref", metavar="REF",
                     help="Limit every action of this pack (instead of --action)."),
        click.option("--concurrency-limit", type=click.IntRange(min=1), metavar="N",
                     help="At most N executions at once (per group)."),
        click.option("--on-concurrency", "method", type=click.Choice(["enqueue", "cancel"]),
                     help="Over the limit: wait in order (enqueue, default) or be cancelled."),
        click.option("--group-by", "group_by", multiple=True, metavar="PARAM",
                     help="Apply the concurrency limit per value of this action parameter "
                          "(repeat for several)."),
        click.option("--rate-limit-max", type=click.IntRange(min=1), metavar="N",
                     help="At most N executions started per window..."),
        click.option("--rate-limit-window", type=click.IntRange(min=1), metavar="SECONDS",
                     help="...of this many seconds."),
        click.option("--priority", type=int, help="Among policies of one scope the "
                                                   "highest wins (default 0)."),
        click.option("--label", help="A short title."),
        click.option("--description", help="What the policy is for."),
    ]):
        func = option(func)
    return func


def limits_body(concurrency_limit: int | None, method: str | None, group_by: tuple[str, ...],
                rate_limit_max: int | None, rate_limit_window: int | None,
                current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `concurrency` / `rate_limit` objects the options give; on update, the
    options given change the current values, the others keep them."""
    body: dict[str, Any] = {}
    now = current or {}
    if concurrency_limit is not None or method is not None or group_by:
        old = now.get("concurrency") or {}
        limit = concurrency_limit if concurrency_limit is not None else old.get("limit")
        if limit is None:
            raise click.UsageError("--on-concurrency and --group-by need --concurrency-limit")
        body["concurrency"] = {"limit": limit, "method": method or old.get("method", "enqueue"),
                               "parameters": list(group_by) or old.get("parameters", [])}
    if rate_limit_max is not None or rate_limit_window is not None:
        old = now.get("rate_limit") or {}
        window = rate_limit_window if rate_limit_window is not None else old.get(
            "window_seconds")
        most = rate_limit_max if rate_limit_max is not None else old.get("max_executions")
        if window is None or most is None:
            raise click.UsageError("give both --rate-limit-max and --rate-limit-window")
        body["rate_limit"] = {"max_executions": most, "window_seconds": window}
    return body


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def policy() -> None:
    """Policies: how many executions of an action (or of a pack's actions) may run at
    once, and how many may start per time window."""


@policy.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only policies of this pack.")
@click.option("--action", "action_ref", metavar="REF",
              help="The policies that apply to this action (its own and its pack's), "
                   "marking the effective one.")
@click.option("-q", "--query", "q", metavar="WORDS",
              help="Words that must all appear in ref, label, description or pack.")
@click.option("--enabled/--disabled", "enabled", default=None,
              help="Only enabled (or only disabled) policies.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_policies(pack_ref: str | None, action_ref: str | None, q: str | None,
                  enabled: bool | None, page: int, page_size: int, api_url: str | None,
                  output: Format) -> None:
    """List policies."""
    client = ApiClient.from_options(api_url)
    paging = {"page": page, "page_size": page_size, "include_total": "true"}
    if action_ref is not None:
        body = client.get(f"/api/v1/actions/{segment(action_ref)}/policies",
                          query=paging).body
    else:
        body = client.get("/api/v1/policies", query={
            "pack_ref": pack_ref, "q": q,
            "enabled": enabled, **paging}).body
    emit_page(body, output, POLICY_COLUMNS)


@policy.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the policy REF."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/policies/{segment(ref)}").data
    emit(data, output, lambda: show_policy(data))


@policy.command("create")
@click.argument("ref")
@limit_options
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@api_url_option
@output_option
def create(ref: str, action_ref: str | None, pack_ref: str | None,
           concurrency_limit: int | None, method: str | None, group_by: tuple[str, ...],
           rate_limit_max: int | None, rate_limit_window: int | None, priority: int | None,
           label: str | None, description: str | None, disabled: bool, api_url: str | None,
           output: Format) -> None:
    """Create the policy REF (PACK.NAME; the pack must exist).

    \b
    For example, one deploy per environment at a time, the others waiting their turn:
      attune policy create mypack.one_deploy --action mypack.deploy \\
        --concurrency-limit 1 --on-concurrency enqueue --group-by environment
    or at most 10 runs a minute of every action of a pack:
      attune policy create mypack.slow --pack mypack --rate-limit-max 10 \\
        --rate-limit-window 60
    """
    if (action_ref is None) == (pack_ref is None):
        raise click.UsageError("give exactly one of --action REF or --pack REF")
    body: dict[str, Any] = {"ref": ref, **limits_body(
        concurrency_limit, method, group_by, rate_limit_max, rate_limit_window)}
    if not body.keys() & {"concurrency", "rate_limit"}:
        raise click.UsageError("give --concurrency-limit N and/or --rate-limit-max N "
                               "--rate-limit-window SECONDS")
    for key, value in (("action_ref", action_ref), ("pack_ref", pack_ref),
                       ("priority", priority), ("label", label),
                       ("description", description)):
        if value is not None:
            body[key] = value
    if disabled:
        body["enabled"] = False
    data = ApiClient.from_options(api_url).post("/api/v1/policies", body).data
    emit(data, output, lambda: click.echo(f"Policy {data.get('ref')} created."))


@policy.command("update")
@click.argument("ref")
@limit_options
@click.option("--no-concurrency", is_flag=True, help="Remove the concurrency limit.")
@click.option("--no-rate-limit", is_flag=True, help="Remove the rate limit.")
@api_url_option
@output_option
def update(ref: str, action_ref: str | None, pack_ref: str | None,
           concurrency_limit: int | None, method: str | None, group_by: tuple[str, ...],
           rate_limit_max: int | None, rate_limit_window: int | None, priority: int | None,
           label: str | None, description: str | None, no_concurrency: bool,
           no_rate_limit: bool, api_url: str | None, output: Format) -> None:
    """Change the policy REF (one created through the API): the options given change,
    the rest stays."""
    if action_ref is not None and pack_ref is not None:
        raise click.UsageError("give at most one of --action REF or --pack REF")
    client = ApiClient.from_options(api_url)
    current = client.get(f"/api/v1/policies/{segment(ref)}").data
    body = limits_body(concurrency_limit, method, group_by, rate_limit_max,
                       rate_limit_window, current if isinstance(current, dict) else None)
    if no_concurrency:
        body["concurrency"] = None
    if no_rate_limit:
        body["rate_limit"] = None
    for key, value in (("action_ref", action_ref), ("pack_ref", pack_ref),
                       ("priority", priority), ("label", label),
                       ("description", description)):
        if value is not None:
            body[key] = value
    if not body:
        raise click.UsageError("nothing to change: give an option (see --help)")
    data = client.request("PUT", f"/api/v1/policies/{segment(ref)}", body=body).data
    emit(data, output, lambda: click.echo(f"Policy {ref} updated."))


add_lifecycle(policy, noun="policy", collection="policies",
              enable="Enable the policy REF.",
              disable="Disable the policy REF: it no longer limits executions.",
              delete="Delete the policy REF (one created through the API).")
