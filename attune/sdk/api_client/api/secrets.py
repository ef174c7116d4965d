"""Keys (secrets). `get_key.sync(ref, client=c, decrypt=True)` asks for the value."""

from attune.sdk.api_client.endpoint import Endpoint

list_keys = Endpoint("GET", "/api/v1/keys", "List keys")
get_key = Endpoint("GET", "/api/v1/keys/{ref}", "Show a key")
create_key = Endpoint("POST", "/api/v1/keys", "Create a key")
update_key = Endpoint("PUT", "/api/v1/keys/{ref}", "Change a key")
delete_key = Endpoint("DELETE", "/api/v1/keys/{ref}", "Delete a key")
