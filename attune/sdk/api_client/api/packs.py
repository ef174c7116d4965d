"""Packs."""

from attune.sdk.api_client.endpoint import Endpoint

list_packs = Endpoint("GET", "/api/v1/packs", "List packs")
get_pack = Endpoint("GET", "/api/v1/packs/{ref}", "Show a pack")
register_pack = Endpoint("POST", "/api/v1/packs/register", "Register a pack from a directory")
list_actions_by_pack = Endpoint("GET", "/api/v1/packs/{pack_ref}/actions", "A pack's actions")
list_rules_by_pack = Endpoint("GET", "/api/v1/packs/{pack_ref}/rules", "A pack's rules")
list_triggers_by_pack = Endpoint("GET", "/api/v1/packs/{pack_ref}/triggers",
                                 "A pack's triggers")
list_sensors_by_pack = Endpoint("GET", "/api/v1/packs/{pack_ref}/sensors", "A pack's sensors")
