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
update_artifact = Endpoint("PUT", "/api/v1/artifacts/{id}", "Change an artifact")
delete_artifact = Endpoint("DELETE", "/api/v1/artifacts/{id}", "Delete an artifact")
set_artifact_data = Endpoint("PUT", "/api/v1/artifacts/{id}/data", "Replace an artifact's data")
list_versions = Endpoint("GET", "/api/v1/artifacts/{id}/versions", "An artifact's versions")
get_latest_version = Endpoint("GET", "/api/v1/artifacts/{id}/versions/latest",
                              "An artifact's newest version")
get_version = Endpoint("GET", "/api/v1/artifacts/{id}/versions/{version}", "One version")
create_version_json = Endpoint("POST", "/api/v1/artifacts/{id}/versions",
                               "Store a JSON value as a new version")
delete_version = Endpoint("DELETE", "/api/v1/artifacts/{id}/versions/{version}",
                          "Delete one version")
list_artifacts_by_execution = Endpoint("GET", "/api/v1/executions/{execution_id}/artifacts",
                                       "The artifacts of an execution")
