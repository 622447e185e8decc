"""SSO-OIDC client: RegisterClient, StartDeviceAuthorization and CreateToken over plain JSON POSTs.

The API is unsigned JSON, so requests is enough; errors are mapped to the OAuth codes the login flows
switch on (`authorization_pending`, `slow_down`, `invalid_grant`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from stsdash.errors import NetworkError, ProviderError
from stsdash.providers.http import (
    RETRYABLE_STATUS,
    STALLED_HINT,
    CallAborted,
    Outcome,
    RetryPolicy,
    failure_text,
    make_session,
    send_with_retries,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# x-amzn-ErrorType exception names -> OAuth error codes, for servers that send only the header.
_EXCEPTION_CODES = {
    "AuthorizationPendingException": "authorization_pending",
    "SlowDownException": "slow_down",
    "ExpiredTokenException": "expired_token",
    "InvalidGrantException": "invalid_grant",
    "InvalidClientException": "invalid_client",
    "AccessDeniedException": "access_denied",
    "InvalidRequestException": "invalid_request",
    "InvalidScopeException": "invalid_scope",
    "UnauthorizedClientException": "unauthorized_client",
    "UnsupportedGrantTypeException": "unsupported_grant_type",
    "InvalidRedirectUriException": "invalid_redirect_uri",
    "InvalidClientMetadataException": "invalid_client_metadata",
    "InternalServerException": "server_error",
}

_HINTS = {
    "expired_token": "The sign-in expired; log in again.",
    "invalid_grant": "The sign-in is no longer valid; log in again.",
    "invalid_client": "The client registration expired; log in again to register a new one.",
    "access_denied": "The request was denied in the browser; log in again and approve it.",
    "invalid_scope": "Check sso_registration_scopes in the [sso-session] section "
    "(usually sso:account:access).",
    "server_error": "The SSO service had a problem; try again later.",
}
_BAD_ANSWER_HINT = "Try again; if it persists, check AWS_ENDPOINT_URL_SSO_OIDC and any proxy in between."


class OidcError(ProviderError):
    """An SSO-OIDC error. `code` is the OAuth error code (`invalid_grant`, ...)."""


def oidc_endpoint(region: str, env: Mapping[str, str]) -> str:
    """AWS_ENDPOINT_URL_SSO_OIDC > AWS_ENDPOINT_URL > the regional AWS host."""
    if not _ignore_configured(env):
        for key in ("AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"):
            if env.get(key):
                return env[key].rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://oidc.{region}.{suffix}"


def _ignore_configured(env: Mapping[str, str]) -> bool:
    return env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true"


class OidcClient:
    """One OIDC endpoint. Every call is unsigned JSON; secrets are never put into error messages."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        session: requests.Session | None = None,
        verify: bool | str = True,
        max_attempts: int = 3,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.session = session or make_session()
        self.verify = verify
        self.max_attempts = max_attempts

    def register_client(
        self,
        client_name: str,
        *,
        scopes: list[str] | None = None,
        grant_types: list[str] | None = None,
        redirect_uris: list[str] | None = None,
        issuer_url: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"clientName": client_name, "clientType": "public"}
        if scopes:
            body["scopes"] = scopes
        if grant_types:
            body["grantTypes"] = grant_types
        if redirect_uris:
            body["redirectUris"] = redirect_uris
        if issuer_url:
            body["issuerUrl"] = issuer_url
        return self._post("/client/register", body, required=("clientId", "clientSecret"))

    def start_device_authorization(
        self, client_id: str, client_secret: str, start_url: str
    ) -> dict[str, Any]:
        return self._post(
            "/device_authorization",
            {"clientId": client_id, "clientSecret": client_secret, "startUrl": start_url},
            required=("deviceCode",),
        )

    def create_token(
        self, *, grant_type: str, client_id: str, client_secret: str, **extra: str
    ) -> dict[str, Any]:
        """CreateToken; `extra` holds deviceCode, refreshToken, or code + redirectUri + codeVerifier."""
        body = {"grantType": grant_type, "clientId": client_id, "clientSecret": client_secret, **extra}
        return self._post("/token", body, required=("accessToken", "expiresIn"))

    def authorize_url(self) -> str:
        return f"{self.endpoint_url}/authorize"

    def _post(self, path: str, body: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
        url = self.endpoint_url + path

        def send() -> requests.Response:
            return self.session.post(url, json=body, verify=self.verify)

        def classify(response: requests.Response | None, exc: BaseException | None) -> Outcome:
            if exc is not None:
                return Outcome.RETRY if isinstance(exc, requests.ConnectionError) else Outcome.DONE
            assert response is not None
            return Outcome.RETRY if response.status_code in RETRYABLE_STATUS else Outcome.DONE

        try:
            response = send_with_retries(
                send, classify, max_attempts=self.max_attempts, policy=RetryPolicy(base=0.2, cap=2.0)
            )
        except requests.RequestException as exc:
            raise NetworkError(
                f"cannot reach the SSO-OIDC endpoint {self.endpoint_url}: {failure_text(exc)}",
                code="NetworkError",
                retryable=not isinstance(exc, CallAborted) or exc.reason != "cancelled",
                hint=STALLED_HINT if isinstance(exc, CallAborted | requests.Timeout) else None,
            ) from None
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError as exc:
                raise OidcError(
                    f"SSO-OIDC {path} returned invalid JSON", code="server_error", hint=_BAD_ANSWER_HINT
                ) from exc
            missing = [key for key in required if not isinstance(data, dict) or data.get(key) in (None, "")]
            if missing:
                raise OidcError(
                    f"SSO-OIDC {path} returned an incomplete answer (no {', '.join(missing)})",
                    code="server_error",
                    hint=_BAD_ANSWER_HINT,
                )
            return data
        raise _error_from(response, path)


def _error_from(response: requests.Response, path: str) -> OidcError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    header = response.headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
    code = str(data.get("error") or _EXCEPTION_CODES.get(header) or header or f"http_{response.status_code}")
    description = str(data.get("error_description") or data.get("message") or "")
    message = f"SSO-OIDC {path} failed: {code}" + (f" ({description})" if description else "")
    return OidcError(
        message,
        code=code,
        hint=_HINTS.get(code),
        retryable=response.status_code >= 500,
    )
