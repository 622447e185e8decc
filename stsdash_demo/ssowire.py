"""The SSO emulator's HTTP side: request routing, JSON bodies, and errors in the documented wire format
(error name in x-amzn-ErrorType; OIDC `{"error", "error_description"}`, portal `{"message"}`)."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash_demo.ssoserver import SsoServer

# OIDC error code -> (exception name in x-amzn-ErrorType, HTTP status)
OIDC_ERRORS = {
    "authorization_pending": ("AuthorizationPendingException", 400),
    "slow_down": ("SlowDownException", 400),
    "expired_token": ("ExpiredTokenException", 400),
    "invalid_grant": ("InvalidGrantException", 400),
    "invalid_client": ("InvalidClientException", 401),
    "access_denied": ("AccessDeniedException", 400),
    "invalid_request": ("InvalidRequestException", 400),
    "invalid_scope": ("InvalidScopeException", 400),
    "unauthorized_client": ("UnauthorizedClientException", 400),
    "unsupported_grant_type": ("UnsupportedGrantTypeException", 400),
    "invalid_redirect_uri": ("InvalidRedirectUriException", 400),
    "server_error": ("InternalServerException", 500),
}



class PortalBucket:
    """Server-side token bucket: what the real portal's throttling looks like to a client."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


def oidc_error(code: str, description: str) -> tuple[int, dict]:
    name, status = OIDC_ERRORS[code]
    return status, {"__error": name, "error": code, "error_description": description}


def portal_error(name: str, message: str, status: int) -> tuple[int, dict]:
    return status, {"__error": name, "message": message}


class SsoRequestHandler(BaseHTTPRequestHandler):
    """HTTP for one SsoServer (set as the class attribute `sso`): routing, JSON, errors, the rate gate."""

    sso: SsoServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo UI and the tests own the terminal."""

    def _reply(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None) -> None:
        body = dict(body or {})
        error = body.pop("__error", None)
        payload = json.dumps(body).encode() if (body or status != 200) else b""
        self.send_response(status)
        if error:
            self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/coral/com.amazonaws/")
        self.send_header("x-amzn-RequestId", secrets.token_hex(16))
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _json(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    def _query(self) -> tuple[str, dict[str, str]]:
        parsed = urllib.parse.urlsplit(self.path)
        return parsed.path, dict(urllib.parse.parse_qsl(parsed.query))

    def do_POST(self) -> None:
        path, _ = self._query()
        sso = self.sso
        body = self._json()  # always drain the body so the keep-alive connection stays in sync
        if path == "/logout":
            if not self._portal_gate("Logout"):
                return
            with sso.lock:
                token = sso.bearer(self.headers.get("x-amz-sso_bearer_token"))
                if token is None:
                    return self._reply(
                        *portal_error("UnauthorizedException", "Session token not found or invalid", 401)
                    )
                token.revoked = True
            return self._reply(200)
        if body is None:
            return self._reply(*oidc_error("invalid_request", "Body must be a JSON object"))
        routes = {
            "/client/register": ("RegisterClient", sso.register_client),
            "/device_authorization": ("StartDeviceAuthorization", sso.start_device_authorization),
            "/token": ("CreateToken", sso.create_token),
        }
        if path not in routes:
            return self._reply(404, {"__error": "ResourceNotFoundException", "message": "Not found"})
        name, func = routes[path]
        with sso.lock:
            sso.counts[name] += 1
            if name == "CreateToken":
                sso.counts[f"CreateToken:{body.get('grantType')}"] += 1
        self._reply(*func(body))

    def do_GET(self) -> None:
        path, query = self._query()
        sso = self.sso
        if path == "/authorize":
            status, body, location = sso.authorize(query)
            if location:
                return self._reply(302, None, {"Location": location})
            return self._reply(status, body)
        if path == "/device":
            code = query.get("user_code")
            approved = sso.approve(code) if code else 0
            return self._reply(200 if approved else 404, {"approved": approved})
        routes = {
            "/federation/credentials": ("GetRoleCredentials", sso.get_role_credentials),
            "/assignment/accounts": ("ListAccounts", sso.list_accounts),
            "/assignment/roles": ("ListAccountRoles", sso.list_account_roles),
        }
        if path not in routes:
            return self._reply(404, {"__error": "ResourceNotFoundException", "message": "Not found"})
        name, func = routes[path]
        if not self._portal_gate(name):
            return
        with sso.lock:
            if sso.bearer(self.headers.get("x-amz-sso_bearer_token")) is None:
                sso.counts["unauthorized"] += 1
                return self._reply(
                    *portal_error("UnauthorizedException", "Session token not found or invalid", 401)
                )
        try:
            status, body = func(query)
        except Exception as exc:
            status, body = 500, {"__error": "InternalServerException", "message": type(exc).__name__}
        self._reply(status, body)

    def _portal_gate(self, name: str) -> bool:
        """Count the call and apply the rate limit; False when a 429 was sent."""
        sso = self.sso
        bucket = sso.portal_bucket
        with sso.lock:
            sso.counts[name] += 1
            sso.counts["portal"] += 1
        if bucket is not None and not bucket.take():
            with sso.lock:
                sso.counts["throttled"] += 1
            self._reply(*portal_error("TooManyRequestsException", "Too many requests", 429))
            return False
        return True
