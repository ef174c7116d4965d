"""Actions."""

from attune.sdk.api_client.endpoint import Endpoint

list_actions = Endpoint("GET", "/api/v1/actions", "List actions")
get_action = Endpoint("GET", "/api/v1/actions/{ref}", "Show an action")
list_rules_by_action = Endpoint("GET", "/api/v1/actions/{action_ref}/rules",
                                "Rules that run an action")
