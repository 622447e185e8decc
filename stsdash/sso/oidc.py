"""SSO-OIDC client: RegisterClient, StartDeviceAuthorization and CreateToken over plain JSON POSTs.

The API is unsigned JSON, so requests is enough; errors are mapped to the OAuth codes the login flows
switch on (`authorization_pending`, `slow_down`, `invalid_grant`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from stsdash.answers import BadAnswer, Fields, load_json
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
MAX_TOKEN = 65536  # characters in a token or secret the service hands out
MAX_TOKEN_SECONDS = 90 * 86400  # the longest an SSO access token can live (the session limit)
MAX_EPOCH = 1 << 40

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
        answer = self._post("/client/register", body)
        return {
            "clientId": answer.text("clientId", max_len=4096),
            "clientSecret": answer.text("clientSecret", max_len=MAX_TOKEN),
            # seconds since the epoch; 0 would be 1970, a registration no server hands out
            "clientSecretExpiresAt": answer.number("clientSecretExpiresAt", low=1, high=MAX_EPOCH),
        }

    def start_device_authorization(
        self, client_id: str, client_secret: str, start_url: str
    ) -> dict[str, Any]:
        answer = self._post(
            "/device_authorization",
            {"clientId": client_id, "clientSecret": client_secret, "startUrl": start_url},
        )
        return {
            "deviceCode": answer.text("deviceCode", max_len=MAX_TOKEN),
            "userCode": answer.text("userCode", max_len=64, required=False),
            "verificationUri": _url(answer, "verificationUri", required=True),
            "verificationUriComplete": _url(answer, "verificationUriComplete", required=False),
            # The API documents whole seconds; -1, 1e-6 or NaN would poll thousands of times a second.
            "expiresIn": answer.number("expiresIn", low=1, high=3600, required=False) or 600,
            "interval": answer.number("interval", low=1, high=60, required=False) or 5,
        }

    def create_token(
        self, *, grant_type: str, client_id: str, client_secret: str, **extra: str
    ) -> dict[str, Any]:
        """CreateToken; `extra` holds deviceCode, refreshToken, or code + redirectUri + codeVerifier."""
        body = {"grantType": grant_type, "clientId": client_id, "clientSecret": client_secret, **extra}
        answer = self._post("/token", body)
        return {
            "accessToken": answer.text("accessToken", max_len=MAX_TOKEN),
            "expiresIn": answer.number("expiresIn", low=1, high=MAX_TOKEN_SECONDS),
            "refreshToken": answer.text("refreshToken", max_len=MAX_TOKEN, required=False),
        }

    def authorize_url(self) -> str:
        return f"{self.endpoint_url}/authorize"

    def _post(self, path: str, body: dict[str, Any]) -> Fields:
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
            server = f"SSO-OIDC {path} at {self.endpoint_url}"
            try:
                return Fields(load_json(response.content, server, hint=_BAD_ANSWER_HINT), server,
                              hint=_BAD_ANSWER_HINT)
            except BadAnswer as exc:
                raise OidcError(exc.message, code="server_error", hint=_BAD_ANSWER_HINT) from None
        raise _error_from(response, path)


def _url(answer: Fields, key: str, *, required: bool) -> str | None:
    value = answer.text(key, max_len=2048, required=required)
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise BadAnswer(answer.server, f"{key} is not an http(s) URL", hint=_BAD_ANSWER_HINT)
    return value


def _error_from(response: requests.Response, path: str) -> OidcError:
    try:
        data = load_json(response.content, "SSO-OIDC")
    except BadAnswer:
        data = {}
    if not isinstance(data, dict):
        data = {}
    header = response.headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
    code = str(data.get("error") or _EXCEPTION_CODES.get(header) or header or f"http_{response.status_code}")
    description = str(data.get("error_description") or data.get("message") or "")[:300]
    message = f"SSO-OIDC {path} failed: {code}" + (f" ({description})" if description else "")
    return OidcError(
        message,
        code=code,
        hint=_HINTS.get(code),
        retryable=response.status_code >= 500,
    )
