"""`attune identity list|show|create|update|delete|freeze|unfreeze|permissions|assign|
unassign|token ...`, `attune permission-set list|show`, and `attune token-login`.

Identities are named by login or numeric id on the command line."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.config import CliConfig, resolve_api_url
from attune.cli.documents import json_option
from attune.cli.output import (
    CliError,
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    emit_rows,
    output_option,
)

_HELP = {"help_option_names": ["-h", "--help"]}

IDENTITY_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("LOGIN", "login"),
    Column.key("NAME", "display_name"),
    Column("SETS", lambda i: ", ".join(i.get("permission_set_refs") or [])),
    Column.key("FROZEN", "frozen"),
]
TOKEN_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("LABEL", "label"),
    Column.key("CREATED", "created"),
    Column.key("EXPIRES", "expires_at"),
    Column.key("REVOKED", "revoked_at"),
]
SET_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("LABEL", "label"),
    Column("GRANTS", lambda s: str(len(s.get("grants") or []))),
    Column.key("SOURCE", "source"),
]


def identity_id(client: ApiClient, who: str) -> int:
    """The id of the identity named by login or id."""
    if who.isdigit():
        return int(who)
    page = client.get("/api/v1/identities", query={"q": who, "page_size": 100}).body
    for item in (page or {}).get("items", []):
        if item.get("login") == who:
            return int(item["id"])
    raise CliError(f"no identity with login {who!r} (or you may not see it): "
                   "`attune identity list` shows them")


def show_identity(identity: dict[str, Any]) -> None:
    emit_fields([("Id", identity.get("id")), ("Login", identity.get("login")),
                 ("Name", identity.get("display_name")),
                 ("Permission sets", ", ".join(identity.get("permission_set_refs") or [])
                  or "(none)"),
                 ("Frozen", identity.get("frozen")),
                 ("Attributes", identity.get("attributes") or {}),
                 ("Updated", identity.get("updated"))],
                title=f"Identity {identity.get('login')}")


@click.group(context_settings=_HELP)
def identity() -> None:
    """Identities (users and service accounts), their permission sets and
    integration tokens."""


@identity.command("list")
@click.option("-q", "--query", "q", metavar="WORDS", help="Words in login or name.")
@click.option("--frozen/--active", "frozen", default=None, help="Only frozen (or active).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_identities(q: str | None, frozen: bool | None, page: int, page_size: int,
                    api_url: str | None, output: Format) -> None:
    """List the identities you may see."""
    body = ApiClient.from_options(api_url).get("/api/v1/identities", query={
        "q": q, "frozen": frozen, "page": page, "page_size": page_size,
        "include_total": "true"}).body
    emit_page(body, output, IDENTITY_COLUMNS)


@identity.command("show")
@click.argument("who")
@api_url_option
@output_option
def show(who: str, api_url: str | None, output: Format) -> None:
    """Show the identity WHO (login or id)."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/identities/{identity_id(client, who)}").data
    emit(data, output, lambda: show_identity(data))


@identity.command("create")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters; asked for (not echoed) when not given.")
@click.option("--display-name", help="A name for people.")
@click.option("--set", "sets", multiple=True, metavar="REF",
              help="A permission set to assign (repeat for several), e.g. core.viewer.")
@click.option("--attributes", metavar="JSON", help="Attributes as a JSON object.")
@api_url_option
@output_option
def create(login: str, password: str, display_name: str | None, sets: tuple[str, ...],
           attributes: str | None, api_url: str | None, output: Format) -> None:
    """Create the identity LOGIN."""
    body: dict[str, Any] = {"login": login, "password": password,
                            "permission_set_refs": list(sets)}
    if display_name:
        body["display_name"] = display_name
    attrs = json_option(attributes, "--attributes")
    if attrs is not None:
        body["attributes"] = attrs
    data = ApiClient.from_options(api_url).post("/api/v1/identities", body).data
    emit(data, output, lambda: click.echo(f"Identity {login} created (id {data.get('id')})."))


@identity.command("update")
@click.argument("who")
@click.option("--display-name", help="A new name for people.")
@click.option("--attributes", metavar="JSON", help="Replace the attributes (JSON object).")
@click.option("--password", help="Set a new password (administrators).")
@api_url_option
@output_option
def update(who: str, display_name: str | None, attributes: str | None, password: str | None,
           api_url: str | None, output: Format) -> None:
    """Change the identity WHO (login or id)."""
    body: dict[str, Any] = {}
    if display_name is not None:
        body["display_name"] = display_name
    attrs = json_option(attributes, "--attributes")
    if attrs is not None:
        body["attributes"] = attrs
    if password is not None:
        body["password"] = password
    if not body:
        raise click.UsageError("nothing to change: give --display-name, --attributes or "
                               "--password")
    client = ApiClient.from_options(api_url)
    data = client.request("PUT", f"/api/v1/identities/{identity_id(client, who)}",
                          body=body).data
    emit(data, output, lambda: click.echo(f"Identity {who} changed."))


@identity.command("delete")
@click.argument("who")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@api_url_option
def delete(who: str, yes: bool, api_url: str | None) -> None:
    """Delete the identity WHO; its tokens stop working."""
    if not yes:
        click.confirm(f"Delete identity {who}?", abort=True)
    client = ApiClient.from_options(api_url)
    client.request("DELETE", f"/api/v1/identities/{identity_id(client, who)}")
    click.echo(f"Identity {who} deleted.")


def _freeze_command(name: str, done: str, doc: str) -> None:
    @identity.command(name, help=doc)
    @click.argument("who")
    @api_url_option
    def command(who: str, api_url: str | None) -> None:
        client = ApiClient.from_options(api_url)
        client.post(f"/api/v1/identities/{identity_id(client, who)}/{name}", None)
        click.echo(f"Identity {who} {done}.")


_freeze_command("freeze", "frozen",
                "Freeze the identity WHO: its tokens stop working at once.")
_freeze_command("unfreeze", "unfrozen", "Unfreeze the identity WHO.")


@identity.command("permissions")
@click.argument("who")
@api_url_option
@output_option
def show_permissions(who: str, api_url: str | None, output: Format) -> None:
    """The permission sets of WHO and the grants they add up to."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/identities/{identity_id(client, who)}/permissions").data
    grants = data.get("grants") or []
    emit(data, output, lambda: emit_rows(grants, [
        Column.key("RESOURCE", "resource"),
        Column("ACTIONS", lambda g: ", ".join(g.get("actions") or [])),
        Column("CONSTRAINTS", lambda g: g.get("constraints") or "")],
        title=f"{data.get('login')}: {', '.join(data.get('permission_set_refs') or [])}"))


@identity.command("assign")
@click.argument("who")
@click.argument("permission_set")
@api_url_option
def assign(who: str, permission_set: str, api_url: str | None) -> None:
    """Assign PERMISSION_SET (e.g. core.editor) to WHO."""
    client = ApiClient.from_options(api_url)
    client.post(f"/api/v1/identities/{identity_id(client, who)}/permissions",
                {"permission_set_ref": permission_set})
    click.echo(f"{permission_set} assigned to {who}.")


@identity.command("unassign")
@click.argument("who")
@click.argument("permission_set")
@api_url_option
def unassign(who: str, permission_set: str, api_url: str | None) -> None:
    """Take PERMISSION_SET away from WHO."""
    client = ApiClient.from_options(api_url)
    found = client.get("/api/v1/permissions/assignments", query={
        "identity_id": identity_id(client, who), "permission_set_ref": permission_set}).body
    items = (found or {}).get("items") or []
    if not items:
        raise CliError(f"{who} does not have {permission_set}")
    client.request("DELETE", f"/api/v1/permissions/assignments/{items[0]['id']}")
    click.echo(f"{permission_set} no longer assigned to {who}.")


@identity.group("token")
def token() -> None:
    """Integration tokens (attune_it_...): how services log in as an identity."""


@token.command("create")
@click.argument("who")
@click.option("--label", required=True, help="What the token is for.")
@click.option("--ttl", "ttl_seconds", type=click.IntRange(min=60), metavar="SECONDS",
              help="The token expires this many seconds from now (default: never).")
@api_url_option
@output_option
def token_create(who: str, label: str, ttl_seconds: int | None, api_url: str | None,
                 output: Format) -> None:
    """Create an integration token for WHO. It is shown once: keep it safe."""
    client = ApiClient.from_options(api_url)
    body: dict[str, Any] = {"label": label}
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    data = client.post(f"/api/v1/identities/{identity_id(client, who)}/integration-tokens",
                       body).data
    emit(data, output, lambda: click.echo(
        f"Token {data.get('id')} created; it is shown this once:\n{data.get('token')}"))


@token.command("list")
@click.argument("who")
@api_url_option
@output_option
def token_list(who: str, api_url: str | None, output: Format) -> None:
    """The integration tokens of WHO (never the tokens themselves)."""
    client = ApiClient.from_options(api_url)
    body = client.get(f"/api/v1/identities/{identity_id(client, who)}/integration-tokens",
                      query={"page_size": 100}).body
    emit_page(body, output, TOKEN_COLUMNS)


@token.command("revoke")
@click.argument("who")
@click.argument("token_id")
@api_url_option
def token_revoke(who: str, token_id: str, api_url: str | None) -> None:
    """Revoke the integration token TOKEN_ID of WHO, and every session made with it."""
    client = ApiClient.from_options(api_url)
    client.post(f"/api/v1/identities/{identity_id(client, who)}/integration-tokens/"
                f"{segment(token_id)}/revoke", None)
    click.echo(f"Token {token_id} revoked.")


@click.group("permission-set", context_settings=_HELP)
def permission_set() -> None:
    """Permission sets: named lists of grants, from packs or the API."""


@permission_set.command("list")
@api_url_option
@output_option
def set_list(api_url: str | None, output: Format) -> None:
    """List permission sets."""
    body = ApiClient.from_options(api_url).get("/api/v1/permissions/sets",
                                               query={"page_size": 100}).body
    emit_page(body, output, SET_COLUMNS)


@permission_set.command("show")
@click.argument("ref")
@api_url_option
@output_option
def set_show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the permission set REF and its grants."""
    data = ApiClient.from_options(api_url).get(f"/api/v1/permissions/sets/{segment(ref)}").data
    emit(data, output, lambda: emit_rows(data.get("grants") or [], [
        Column.key("RESOURCE", "resource"),
        Column("ACTIONS", lambda g: ", ".join(g.get("actions") or [])),
        Column("CONSTRAINTS", lambda g: g.get("constraints") or "")],
        title=f"{ref}: {data.get('label')} ({data.get('source')})"))


@click.command("token-login", context_settings=_HELP)
@click.argument("token", envvar="ATTUNE_INTEGRATION_TOKEN")
@api_url_option
def token_login(token: str, api_url: str | None) -> None:
    """Log in with an integration token (attune_it_..., or ATTUNE_INTEGRATION_TOKEN) and
    keep the session for the next commands, like `attune login`."""
    config = CliConfig.load()
    url = resolve_api_url(api_url, config)
    data = ApiClient(url, CliConfig()).post("/auth/token-login", {"token": token},
                                            auth=False).data
    if not isinstance(data, dict) or "access_token" not in data:
        raise CliError(f"unexpected answer to the token login: {data!r}")
    user: dict[str, Any] = data.get("user") or {}
    config.api_url = url
    config.login = str(user.get("login") or "")
    config.access_token = str(data["access_token"])
    config.refresh_token = str(data.get("refresh_token") or "") or None
    config.save()
    click.echo(f"Logged in to {url} as {config.login} with an integration token.")
