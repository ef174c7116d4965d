"""Events (what sensors emit)."""

from attune.sdk.api_client.endpoint import Endpoint

create_event = Endpoint("POST", "/api/v1/events",
                        "Emit an event: body {trigger_ref, payload, trigger_instance_id?}")
get_event = Endpoint("GET", "/api/v1/events/{id}", "Show an event")
list_events = Endpoint("GET", "/api/v1/events", "List events")
