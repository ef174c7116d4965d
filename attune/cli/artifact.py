"""`attune artifact list|show|download|upload`: execution output kept as versioned
artifacts (content in the JetStream object store)."""

from __future__ import annotations

import json
import mimetypes
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from uuid import uuid4

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.config import CliConfig, resolve_api_url
from attune.cli.output import (
    CliError,
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

ARTIFACT_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("REF", "ref"),
    Column.key("TYPE", "type"),
    Column.key("OWNER", "owner"),
    Column.key("EXECUTION", "execution"),
    Column.key("VERSIONS", "versions"),
    Column.key("LATEST", "latest_version"),
    Column.key("UPDATED", "updated"),
]
TYPES = ("file_binary", "file_datatable", "file_image", "file_text", "url", "progress",
         "other")
CHUNK = 256 * 1024


class TransferClient(ApiClient):
    """The API client for bodies that are not JSON: downloads and multipart uploads."""

    @classmethod
    def connect(cls, api_url: str | None) -> TransferClient:
        config = CliConfig.load()
        return cls(resolve_api_url(api_url, config), config)

    def transfer(self, method: str, path: str, *, body: Iterator[bytes] | None = None,
                 length: int | None = None, content_type: str | None = None
                 ) -> tuple[int, Any, dict[str, str]]:
        token = self._override or self._access
        request = urllib.request.Request(self.api_url + path, method=method,  # noqa: S310
                                         data=body)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        if length is not None:
            request.add_header("Content-Length", str(length))
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as err:
            message = err.read()[:2000].decode(errors="replace")
            if err.code == 401:
                raise CliError("not logged in or session expired: run `attune login`"
                               ) from None
            raise CliError(_error_text(message) or f"the API answered {err.code}",
                           status=err.code) from None
        except (urllib.error.URLError, OSError) as err:
            raise CliError(f"cannot reach the API at {self.api_url}: is `attune up` "
                           f"running? ({getattr(err, 'reason', err)})") from None
        return response.status, response, {k.lower(): v for k, v in response.headers.items()}


def _error_text(raw: str) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.strip()
    return str(body.get("error", raw)) if isinstance(body, dict) else raw.strip()


def artifact_id(client: ApiClient, id_or_ref: str) -> dict[str, Any]:
    """The artifact named by its numeric id or its ref."""
    if id_or_ref.isdigit():
        return dict(client.get(f"/api/v1/artifacts/{id_or_ref}").data)
    return dict(client.get(f"/api/v1/artifacts/ref/{segment(id_or_ref)}").data)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def artifact() -> None:
    """Artifacts: files, tables, images, URLs and progress logs that executions keep,
    each with versions (retention keeps the newest N, or those younger than an age)."""


@artifact.command("list")
@click.option("--execution", type=click.IntRange(min=1), help="Only this execution's.")
@click.option("--type", "kind", type=click.Choice(TYPES), help="Only this type.")
@click.option("--scope", type=click.Choice(["system", "identity", "pack", "action",
                                            "sensor"]), help="Only this owner type.")
@click.option("--owner", metavar="NAME", help="Only this owner (a ref or login).")
@click.option("-q", "--query", "q", metavar="WORDS", help="Words in the ref or name.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_artifacts(execution: int | None, kind: str | None, scope: str | None,
                   owner: str | None, q: str | None, page: int, page_size: int,
                   api_url: str | None, output: Format) -> None:
    """List the artifacts you may read."""
    body = ApiClient.from_options(api_url).get("/api/v1/artifacts", query={
        "execution": execution, "type": kind, "scope": scope, "owner": owner, "q": q,
        "page": page, "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, ARTIFACT_COLUMNS)


@artifact.command("show")
@click.argument("artifact_ref", metavar="ID_OR_REF")
@api_url_option
@output_option
def show(artifact_ref: str, api_url: str | None, output: Format) -> None:
    """Show an artifact and its versions."""
    client = ApiClient.from_options(api_url)
    data = artifact_id(client, artifact_ref)
    versions = client.get(f"/api/v1/artifacts/{data['id']}/versions").body
    data["version_list"] = versions.get("items", []) if isinstance(versions, dict) else []
    emit(data, output, lambda: emit_fields([
        ("Id", data["id"]), ("Ref", data["ref"]), ("Type", data["type"]),
        ("Owner", f"{data['scope']} {data['owner']}".strip()),
        ("Visibility", data["visibility"]), ("Execution", data.get("execution")),
        ("Retention", f"{data['retention_policy']} {data['retention_limit']}"),
        ("Versions", ", ".join(f"v{v['version']} ({v.get('size_bytes') or 0} bytes, "
                               f"{v['body_state']})" for v in data["version_list"])
         or "none"),
        ("Data", data.get("data"))], title=f"Artifact {data['ref']}"))


@artifact.command("download")
@click.argument("artifact_ref", metavar="ID_OR_REF")
@click.option("--version", "number", type=click.IntRange(min=1),
              help="This version (default: the newest).")
@click.option("-f", "--file", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here ('-' for stdout; default <ref>-v<version> in this folder).")
@api_url_option
def download(artifact_ref: str, number: int | None, target: Path | None,
             api_url: str | None) -> None:
    """Download the content of an artifact version."""
    client = TransferClient.connect(api_url)
    data = artifact_id(client, artifact_ref)
    path = (f"/api/v1/artifacts/{data['id']}/versions/{number}/download" if number
            else f"/api/v1/artifacts/{data['id']}/download")
    _, response, headers = client.transfer("GET", path)
    version = headers.get("x-attune-artifact-version", str(number or ""))
    with response:
        if target is not None and str(target) == "-":
            _copy(response, sys.stdout.buffer)
            return
        out = target or Path(f"{data['ref']}-v{version}")
        with out.open("wb") as sink:
            written = _copy(response, sink)
    click.echo(f"Version {version} of {data['ref']} written to {out} ({written} bytes).")


def _copy(source: Any, sink: BinaryIO) -> int:
    written = 0
    while chunk := source.read(CHUNK):
        sink.write(chunk)
        written += len(chunk)
    return written


@artifact.command("upload")
@click.argument("artifact_ref", metavar="REF")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "kind", type=click.Choice(TYPES), default="file_binary",
              show_default=True, help="Type of the artifact, if it is created now.")
@click.option("--content-type", help="Media type (default: guessed from the file name).")
@click.option("--name", help="Display name, if the artifact is created now.")
@click.option("--keep", "retention_limit", type=click.IntRange(min=1),
              help="Versions to keep, if the artifact is created now (default 10).")
@api_url_option
@output_option
def upload(artifact_ref: str, source: Path, kind: str, content_type: str | None,
           name: str | None, retention_limit: int | None, api_url: str | None,
           output: Format) -> None:
    """Upload FILE as a new version of artifact REF (created if it does not exist)."""
    client = TransferClient.connect(api_url)
    try:
        client.get(f"/api/v1/artifacts/ref/{segment(artifact_ref)}")
    except CliError as exc:
        if exc.status != 404:
            raise
        body: dict[str, Any] = {"ref": artifact_ref, "type": kind}
        if name:
            body["name"] = name
        if retention_limit:
            body.update(retention_policy="versions", retention_limit=retention_limit)
        client.post("/api/v1/artifacts", body)
    kind_of_file = content_type or mimetypes.guess_type(source.name)[0] or \
        "application/octet-stream"
    boundary = uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{source.name}\"\r\nContent-Type: {kind_of_file}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + source.stat().st_size + len(tail)

    def parts() -> Iterator[bytes]:
        yield head
        with source.open("rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
        yield tail

    _, response, _ = client.transfer(
        "POST", f"/api/v1/artifacts/ref/{segment(artifact_ref)}/versions/upload",
        body=parts(), length=length, content_type=f"multipart/form-data; boundary={boundary}")
    with response:
        data = json.loads(response.read()).get("data", {})
    emit(data, output, lambda: click.echo(
        f"Uploaded {source} as version {data.get('version')} of {artifact_ref} "
        f"({data.get('size_bytes')} bytes)."))


@artifact.command("delete")
@click.argument("artifact_ref", metavar="ID_OR_REF")
@click.option("--version", "number", type=click.IntRange(min=1),
              help="Delete only this version.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@api_url_option
def delete(artifact_ref: str, number: int | None, yes: bool, api_url: str | None) -> None:
    """Delete an artifact (all its versions' content), or one version of it."""
    client = ApiClient.from_options(api_url)
    data = artifact_id(client, artifact_ref)
    what = f"version {number} of {data['ref']}" if number else f"artifact {data['ref']}"
    if not yes:
        click.confirm(f"Delete {what}?", abort=True)
    path = f"/api/v1/artifacts/{data['id']}" + (f"/versions/{number}" if number else "")
    client.request("DELETE", path)
    click.echo(f"Deleted {what}.")
