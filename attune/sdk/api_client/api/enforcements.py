"""Enforcements."""

from attune.sdk.api_client.endpoint import Endpoint

get_enforcement = Endpoint("GET", "/api/v1/enforcements/{id}", "Show an enforcement")
list_enforcements = Endpoint("GET", "/api/v1/enforcements", "List enforcements")
