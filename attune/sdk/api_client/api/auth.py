"""Authentication (under /auth, not /api/v1)."""

from attune.sdk.api_client.endpoint import Endpoint

login = Endpoint("POST", "/auth/login", "Log in: body {login, password}")
refresh_token = Endpoint("POST", "/auth/refresh", "New tokens: body {refresh_token}")
get_current_user = Endpoint("GET", "/auth/me", "Who the token stands for")
