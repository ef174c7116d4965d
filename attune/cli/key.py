"""`attune key list|get|set|delete|rotate-encryption-key`: keys (secrets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.documents import json_value
from attune.cli.lifecycle import attune_errors
from attune.cli.output import (
    CliError,
    Column,
    Format,
    emit,
    emit_data,
    emit_fields,
    emit_page,
    output_option,
)
from attune.config import from_env
from attune.embedded.datadir import DataDir

KEY_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("OWNER TYPE", "owner_type"),
    Column.key("OWNER", "owner"),
    Column.key("ENCRYPTED", "encrypted"),
    Column.key("EXPIRES", "expires_at"),
    Column.key("UPDATED", "updated"),
]


def show_key(key: dict[str, Any]) -> None:
    value = key.get("value")
    if value is None and key.get("encrypted"):
        value = "(encrypted: you need keys:decrypt to see it)"
    emit_fields([("Ref", key.get("ref")), ("Owner", f"{key.get('owner_type')} "
                                                    f"{key.get('owner') or ''}".strip()),
                 ("Encrypted", key.get("encrypted")), ("Value", value),
                 ("Expires", key.get("expires_at") or "never"),
                 ("Updated", key.get("updated"))], title=f"Key {key.get('ref')}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def key() -> None:
    """Keys (secrets): JSON values under refs like system.NAME, pack.PACK.NAME,
    identity.LOGIN.NAME, action.REF.NAME or sensor.REF.NAME, encrypted by default."""


@key.command("list")
@click.option("--owner-type", type=click.Choice(["system", "identity", "pack", "action",
                                                 "sensor"]), help="Only keys of this kind "
              "of owner.")
@click.option("--owner", metavar="NAME", help="Only keys of this owner (a login or ref).")
@click.option("-q", "--query", "q", metavar="WORDS", help="Words that must appear in the ref.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_keys(owner_type: str | None, owner: str | None, q: str | None, page: int,
              page_size: int, api_url: str | None, output: Format) -> None:
    """List the keys you may read (never their values)."""
    body = ApiClient.from_options(api_url).get("/api/v1/keys", query={
        "owner_type": owner_type, "owner": owner, "q": q, "page": page,
        "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, KEY_COLUMNS)


@key.command("get")
@click.argument("ref")
@click.option("--value-only", is_flag=True, help="Print only the value, as JSON.")
@api_url_option
@output_option
def get(ref: str, value_only: bool, api_url: str | None, output: Format) -> None:
    """Show the key REF; its value is shown when you may decrypt it."""
    data = ApiClient.from_options(api_url).get(f"/api/v1/keys/{segment(ref)}").data
    if value_only:
        emit_data(data.get("value"), "json")
        return
    emit(data, output, lambda: show_key(data))


@key.command("set")
@click.argument("ref")
@click.argument("value")
@click.option("--json", "as_json", is_flag=True,
              help="VALUE is JSON (an object, a list, a number...), not a string.")
@click.option("--no-encrypt", is_flag=True,
              help="Store the value unencrypted (anyone with keys:read sees it).")
@click.option("--ttl", "ttl_seconds", type=click.IntRange(min=1), metavar="SECONDS",
              help="The key expires this many seconds from now.")
@api_url_option
@output_option
def set_key(ref: str, value: str, as_json: bool, no_encrypt: bool, ttl_seconds: int | None,
            api_url: str | None, output: Format) -> None:
    """Create the key REF, or change its value if it exists.

    \b
      attune key set system.smtp_password 'hunter2'
      attune key set pack.slack.config '{"channel": "#ops"}' --json
    """
    parsed: Any = json_value(value, "VALUE") if as_json else value
    client = ApiClient.from_options(api_url)
    body: dict[str, Any] = {"value": parsed}
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    if _exists(client, ref):
        if no_encrypt:
            body["encrypted"] = False
        data = client.request("PUT", f"/api/v1/keys/{segment(ref)}", body=body).data
        verb = "changed"
    else:
        body.update({"ref": ref, "encrypted": not no_encrypt})
        data = client.post("/api/v1/keys", body).data
        verb = "created"
    emit(data, output, lambda: click.echo(f"Key {data.get('ref')} {verb}."))


def _exists(client: ApiClient, ref: str) -> bool:
    listed = client.get("/api/v1/keys", query={"q": ref, "page_size": 100}).body
    return any(item.get("ref") == ref for item in (listed or {}).get("items", []))


@key.command("delete")
@click.argument("ref")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@api_url_option
def delete(ref: str, yes: bool, api_url: str | None) -> None:
    """Delete the key REF."""
    if not yes:
        click.confirm(f"Delete key {ref}?", abort=True)
    ApiClient.from_options(api_url).request("DELETE", f"/api/v1/keys/{segment(ref)}")
    click.echo(f"Key {ref} deleted.")


@key.command("rotate-encryption-key")
@api_url_option
@output_option
def rotate(api_url: str | None, output: Format) -> None:
    """Re-encrypt every key under the server's current encryption key.

    \b
    To change the key: start the services with the new ATTUNE_ENCRYPTION_KEY and the
    old one in ATTUNE_PREVIOUS_ENCRYPTION_KEYS (comma-separated), run this, then drop
    the old one. Values stay readable throughout.
    """
    data = ApiClient.from_options(api_url).post("/api/v1/keys/rotate-encryption-key",
                                                None).data
    emit(data, output, lambda: click.echo(
        f"{data.get('resealed')} key(s) re-encrypted; current key id {data.get('key_id')}."))


@key.command("new-encryption-key")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The data directory of `attune up` [env ATTUNE_DATA_DIR].")
def new_encryption_key(data_dir: Path | None) -> None:
    """Give the embedded default (`attune up`) a new encryption key; run it while
    `attune up` is stopped.

    \b
    The old key moves to secrets/encryption_key.previous, so everything it sealed stays
    readable. Then start `attune up` and run `attune key rotate-encryption-key` to
    re-encrypt the keys under the new one. With external servers, set
    ATTUNE_ENCRYPTION_KEY and ATTUNE_PREVIOUS_ENCRYPTION_KEYS instead.
    """
    directory = (data_dir or from_env().data_dir).expanduser().resolve()
    data = DataDir(directory)
    if not data.secrets_dir.is_dir():
        raise CliError(f"{directory} has no secrets/: is it the data directory of "
                       "`attune up`? (--data-dir)")
    with attune_errors(), data.locked():
        data.replace_secret("encryption_key")
    click.echo(f"New encryption key in {data.secrets_dir}; the old one is kept in "
               "encryption_key.previous. Start `attune up`, then run "
               "`attune key rotate-encryption-key`.")
