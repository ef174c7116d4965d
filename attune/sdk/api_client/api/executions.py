"""Executions."""

from attune.sdk.api_client.endpoint import Endpoint

create_execution = Endpoint("POST", "/api/v1/executions/execute",
                            "Request an execution: body {action_ref, parameters}")
get_execution = Endpoint("GET", "/api/v1/executions/{id}", "Show an execution")
list_executions = Endpoint("GET", "/api/v1/executions", "List executions")
cancel_execution = Endpoint("POST", "/api/v1/executions/{id}/cancel", "Cancel an execution")
