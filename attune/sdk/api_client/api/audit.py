"""The audit trail (needs audit_log:read)."""

from attune.sdk.api_client.endpoint import Endpoint

list_audit_events = Endpoint("GET", "/api/v1/audit-events", "The audit trail, newest first")
get_audit_event = Endpoint("GET", "/api/v1/audit-events/{id}", "One audit event")
get_audit_events_by_request = Endpoint("GET", "/api/v1/audit-events/by-request/{request_id}",
                                       "A request and every change that followed from it")
