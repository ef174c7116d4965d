"""Rules."""

from attune.sdk.api_client.endpoint import Endpoint

list_rules = Endpoint("GET", "/api/v1/rules", "List rules")
list_enabled_rules = Endpoint("GET", "/api/v1/rules/enabled", "List enabled rules")
get_rule = Endpoint("GET", "/api/v1/rules/{ref}", "Show a rule")
create_rule = Endpoint("POST", "/api/v1/rules", "Create a rule")
update_rule = Endpoint("PUT", "/api/v1/rules/{ref}", "Change a rule")
delete_rule = Endpoint("DELETE", "/api/v1/rules/{ref}", "Delete a rule")
enable_rule = Endpoint("POST", "/api/v1/rules/{ref}/enable", "Enable a rule")
disable_rule = Endpoint("POST", "/api/v1/rules/{ref}/disable", "Disable a rule")
