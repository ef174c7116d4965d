"""`attune login`, `attune logout`, `attune whoami`."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option
from attune.cli.config import CliConfig, config_path, resolve_api_url
from attune.cli.output import CliError, Format, emit, emit_fields, output_option

_HELP = {"help_option_names": ["-h", "--help"]}


@click.command(context_settings=_HELP)
@click.option("--login", "login_name", default="admin", show_default=True,
              envvar="ATTUNE_LOGIN", show_envvar=True, help="Who to log in as.")
@click.option("--password", default=None, envvar="ATTUNE_PASSWORD", show_envvar=True,
              help="The password; asked for (not echoed) when not given.")
@api_url_option
def login(login_name: str, password: str | None, api_url: str | None) -> None:
    """Log in to the Attune API and keep the tokens for the next commands.

    The tokens are saved (mode 0600) in the CLI's config file, with the API URL they
    belong to; `attune logout` forgets them.
    """
    config = CliConfig.load()
    url = resolve_api_url(api_url, config)
    if password is None:
        password = click.prompt(f"Password for {login_name} at {url}", hide_input=True)
    client = ApiClient(url, CliConfig())  # no old tokens: logging in needs none
    data = client.post("/auth/login", {"login": login_name, "password": password},
                       auth=False).data
    if not isinstance(data, dict) or "access_token" not in data:
        raise CliError(f"unexpected answer to the login: {data!r}")
    user: dict[str, Any] = data.get("user") or {}
    config.api_url = url
    config.login = str(user.get("login") or login_name)
    config.access_token = str(data["access_token"])
    config.refresh_token = str(data.get("refresh_token") or "") or None
    config.save()
    shown = user.get("display_name") or config.login
    click.echo(f"Logged in to {url} as {config.login} ({shown}).")


@click.command(context_settings=_HELP)
def logout() -> None:
    """Forget the saved tokens."""
    config = CliConfig.load()
    if config.access_token is None and config.refresh_token is None:
        click.echo("Not logged in.")
        return
    config.forget_tokens()
    config.save()
    click.echo(f"Logged out (tokens removed from {config_path()}).")


@click.command(context_settings=_HELP)
@api_url_option
@output_option
def whoami(api_url: str | None, output: Format) -> None:
    """Show who the API knows you as."""
    client = ApiClient.from_options(api_url)
    user = client.get("/auth/me").data
    emit(user, output, lambda: emit_fields(
        [("Login", user.get("login")), ("Name", user.get("display_name")),
         ("Id", user.get("id")), ("API", client.api_url)]))
