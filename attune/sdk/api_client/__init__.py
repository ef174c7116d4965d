"""A small, dependency-free Attune API client, shaped like the original SDK's generated
one: `Client` / `AuthenticatedClient`, and operations under `attune.api_client.api.<domain>`
(`from attune.api_client.api.packs import list_packs; list_packs.sync(client=c)`).
Answers are the API's JSON as plain dicts and lists (`{"data": ...}` for one object,
`{"items": [...], "pagination": {...}}` for lists)."""

from attune.sdk.api_client.client import (
    ApiError,
    AuthenticatedClient,
    Client,
    Response,
    TransportError,
)
from attune.sdk.api_client.endpoint import Endpoint

__all__ = ["ApiError", "AuthenticatedClient", "Client", "Endpoint", "Response",
           "TransportError"]
