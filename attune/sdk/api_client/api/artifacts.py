"""Artifacts (see also `attune.artifacts` for the action helpers)."""

from attune.sdk.api_client.endpoint import Endpoint

create_artifact = Endpoint("POST", "/api/v1/artifacts", "Create an artifact")
get_artifact = Endpoint("GET", "/api/v1/artifacts/{id}", "Show an artifact")
get_artifact_by_ref = Endpoint("GET", "/api/v1/artifacts/ref/{ref}", "Show an artifact by ref")
list_artifacts = Endpoint("GET", "/api/v1/artifacts", "List artifacts")
allocate_file_version_by_ref = Endpoint("POST", "/api/v1/artifacts/ref/{ref}/versions/file",
                                        "Upsert an artifact and allocate a file version")
append_progress = Endpoint("POST", "/api/v1/artifacts/{id}/progress",
                           "Append an entry to a progress artifact")
