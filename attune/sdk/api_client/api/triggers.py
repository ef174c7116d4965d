"""Triggers."""

from attune.sdk.api_client.endpoint import Endpoint

list_triggers = Endpoint("GET", "/api/v1/triggers", "List triggers")
list_enabled_triggers = Endpoint("GET", "/api/v1/triggers/enabled", "List enabled triggers")
get_trigger = Endpoint("GET", "/api/v1/triggers/{ref}", "Show a trigger")
create_trigger = Endpoint("POST", "/api/v1/triggers", "Create a trigger")
update_trigger = Endpoint("PUT", "/api/v1/triggers/{ref}", "Change a trigger")
delete_trigger = Endpoint("DELETE", "/api/v1/triggers/{ref}", "Delete a trigger")
enable_trigger = Endpoint("POST", "/api/v1/triggers/{ref}/enable", "Enable a trigger")
disable_trigger = Endpoint("POST", "/api/v1/triggers/{ref}/disable", "Disable a trigger")
list_rules_by_trigger = Endpoint("GET", "/api/v1/triggers/{trigger_ref}/rules",
                                 "Rules of a trigger")
